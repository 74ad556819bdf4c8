"""A plain CSV for bills no other reader knows:
``provider,invoice_number,date,description,model,cost_source,amount,currency`` (optional: quantity, unit,
charge_category, is_ai). ``date`` is the charge day; the billing period is its month."""

from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO

from apps.ingest.rows import RowError, RowProblem, as_amount, as_bool, as_quantity, as_text
from apps.pricing.constants import BILL_COST_SOURCES

from .base import ParsedLine, as_charge_category, as_currency, as_instant, csv_rows, month_start

REQUIRED = ("provider", "invoice_number", "date", "description", "model", "cost_source", "amount", "currency")


def read_generic_csv(stream: BinaryIO) -> Iterator[ParsedLine | RowError]:
    for line_no, row in csv_rows(stream, required=REQUIRED):
        if isinstance(row, str):
            yield RowError(line_no, "(row)", row)
            continue
        try:
            yield _line(line_no, row)
        except RowProblem as problem:
            yield RowError(line_no, problem.field, problem.message)


def _line(line_no: int, row: dict) -> ParsedLine:
    provider = as_text(row.get("provider"), "provider", required=True, max_length=40).lower()
    amount = as_amount(row.get("amount"), "amount")
    if amount is None:
        raise RowProblem("amount", "is required")
    cost_source = (as_text(row.get("cost_source"), "cost_source") or "other").lower()
    if cost_source not in BILL_COST_SOURCES:
        raise RowProblem(
            "cost_source", f"must be one of {', '.join(BILL_COST_SOURCES)}, got {row.get('cost_source')!r}"
        )
    category = as_charge_category(row.get("charge_category") or "Usage", "charge_category")
    if category == "Credit":
        amount = -abs(amount)
    day = as_instant(row.get("date"), "date")
    is_ai = as_bool(row.get("is_ai"), "is_ai") if row.get("is_ai", "").strip() else True
    return ParsedLine(
        line=line_no,
        invoice_provider=provider,
        invoice_number=as_text(row.get("invoice_number"), "invoice_number", required=True),
        billing_period=month_start(day),
        currency=as_currency(row.get("currency"), "currency"),
        charge_period_start=day,
        charge_period_end=day + timedelta(days=1),
        amount=amount,
        provider=provider,
        service=as_text(row.get("description"), "description"),
        model_raw=as_text(row.get("model"), "model"),
        cost_source=cost_source,
        usage_type=as_text(row.get("description"), "description", max_length=300),
        charge_category=category,
        is_ai=is_ai,
        quantity=as_quantity(row.get("quantity"), "quantity"),
        unit=as_text(row.get("unit"), "unit", max_length=60),
        raw={k: v for k, v in row.items() if v != ""},
    )
