"""AWS Cost and Usage Report 2.0 (CSV, snake_case columns). Bedrock rows are AI charges, one row per
token type (``USW2-Claude4.5Sonnet-input-tokens``); every other product is kept as other cloud cost."""

from collections.abc import Iterator
from typing import BinaryIO

from apps.ingest.rows import RowError, RowProblem, as_amount, as_quantity, as_text

from .base import ParsedLine, as_currency, as_instant, as_json_object, csv_rows, month_start
from .naming import split_cur_usage_type

REQUIRED = (
    "bill_billing_period_start_date",
    "line_item_usage_start_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_unblended_cost",
    "line_item_currency_code",
)
BEDROCK_CODES = {"amazonbedrock", "amazonbedrockservice"}
# line_item_line_item_type -> FOCUS charge category
CATEGORIES = {
    "usage": "Usage",
    "discountedusage": "Usage",
    "savingsplancoveredusage": "Usage",
    "tax": "Tax",
    "credit": "Credit",
    "refund": "Credit",
    "fee": "Purchase",
    "rifee": "Purchase",
    "savingsplanrecurringfee": "Purchase",
    "savingsplanupfrontfee": "Purchase",
}


def read_aws_cur(stream: BinaryIO) -> Iterator[ParsedLine | RowError]:
    for line_no, row in csv_rows(stream, required=REQUIRED):
        if isinstance(row, str):
            yield RowError(line_no, "(row)", row)
            continue
        try:
            yield _line(line_no, row)
        except RowProblem as problem:
            yield RowError(line_no, problem.field, problem.message)


def _line(line_no: int, row: dict) -> ParsedLine:
    amount = as_amount(row.get("line_item_unblended_cost"), "line_item_unblended_cost")
    if amount is None:
        raise RowProblem("line_item_unblended_cost", "is required")
    item_type = as_text(row.get("line_item_line_item_type"), "line_item_line_item_type") or "Usage"
    category = CATEGORIES.get(item_type.lower(), "Adjustment")
    if category == "Credit":
        amount = -abs(amount)
    period = as_instant(row.get("bill_billing_period_start_date"), "bill_billing_period_start_date")
    start = as_instant(row.get("line_item_usage_start_date"), "line_item_usage_start_date")
    end_text = row.get("line_item_usage_end_date", "")
    end = as_instant(end_text, "line_item_usage_end_date") if end_text else start
    product = as_text(row.get("line_item_product_code"), "line_item_product_code", required=True)
    usage_type = as_text(row.get("line_item_usage_type"), "line_item_usage_type", max_length=300)
    is_bedrock = product.lower() in BEDROCK_CODES
    model_hint, model_raw, cost_source = split_cur_usage_type(usage_type) if is_bedrock else ("", "", "other")
    invoice_id = as_text(row.get("bill_invoice_id"), "bill_invoice_id")
    # CUR 2.0's own line id is unique within one file (a partition), not across deliveries: it tells two rows of a
    # file apart (same id = the same line item), never one file's row from another's.
    line_item_id = as_text(row.get("identity_line_item_id"), "identity_line_item_id")
    interval = as_text(row.get("identity_time_interval"), "identity_time_interval")
    return ParsedLine(
        line=line_no,
        invoice_provider="aws",
        invoice_number=invoice_id or f"aws-cur-{period:%Y-%m}",
        derived_number=not invoice_id,
        billing_period=month_start(period),
        currency=as_currency(row.get("line_item_currency_code"), "line_item_currency_code"),
        charge_period_start=start,
        charge_period_end=end,
        amount=amount,
        provider="aws-bedrock" if is_bedrock else "aws",
        service=as_text(row.get("product_product_name"), "product_product_name") or product,
        model_raw=model_raw,
        model_hint=model_hint,
        cost_source=cost_source,
        usage_type=usage_type,
        charge_category=category,
        is_ai=is_bedrock,
        quantity=as_quantity(row.get("line_item_usage_amount"), "line_item_usage_amount"),
        unit=as_text(row.get("pricing_unit"), "pricing_unit", max_length=60) or ("tokens" if model_raw else ""),
        tags=as_json_object(row.get("resource_tags"), "resource_tags"),
        raw={k: v for k, v in row.items() if v != ""},
        source_id=f"{line_item_id}@{interval}" if line_item_id else "",
    )
