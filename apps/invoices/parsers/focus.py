"""FOCUS 1.0–1.3 cost and usage exports (AWS, Azure, Google Cloud, Oracle …).

- the literal ``NULL`` is an empty value; ``Tags`` is a JSON object;
- 1.3 renamed ``ProviderName``/``PublisherName`` to ``ServiceProviderName``/``HostProviderName``: both read;
- the amount is ``BilledCost`` (invoice view) or ``EffectiveCost`` (amortised view), chosen per organisation;
  per ``InvoiceId`` the ``BilledCost`` rows sum to the invoice;
- ``ChargeCategory`` Credit rows always reduce the bill (some exports write their magnitude positive);
- AI services (Bedrock, Azure OpenAI, Vertex AI, anything in ``ServiceSubcategory`` "Generative AI") are
  recognised from ``ServiceName``, ``SkuId`` and ``ChargeDescription``; the rest is kept as other cloud
  cost (``is_ai`` false, cost source ``other``). AI token charges come one row per token type
  (``SkuMeter``), raw tokens in ``ConsumedQuantity``.
"""

import re
from collections.abc import Iterator
from typing import BinaryIO

from apps.ingest.rows import RowError, RowProblem, as_amount, as_quantity, as_text

from .base import (
    ParsedLine,
    as_charge_category,
    as_currency,
    as_instant,
    as_json_object,
    csv_rows,
    month_start,
)
from .naming import model_from_description, split_cur_usage_type, token_kind

RENAMED_1_3 = {"ServiceProviderName": "ProviderName", "HostProviderName": "PublisherName"}
COST_COLUMNS = {"billed": "BilledCost", "effective": "EffectiveCost"}
REQUIRED = (
    "BillingCurrency",
    "BillingPeriodStart",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
    "ServiceName",
)

_PROVIDERS = (
    (re.compile(r"amazon|aws", re.IGNORECASE), "aws"),
    (re.compile(r"microsoft|azure", re.IGNORECASE), "azure"),
    (re.compile(r"google|gcp", re.IGNORECASE), "google"),
    (re.compile(r"oracle|oci", re.IGNORECASE), "oracle"),
)
# (pattern over ServiceName / SkuId / ChargeDescription, AI provider code as usage names it)
_AI_SERVICES = (
    (re.compile(r"bedrock", re.IGNORECASE), "aws-bedrock"),
    (re.compile(r"azure openai|openai", re.IGNORECASE), "azure-openai"),
    (re.compile(r"vertex ai|gemini", re.IGNORECASE), "google"),
)


def provider_code(name: str) -> str:
    for pattern, code in _PROVIDERS:
        if pattern.search(name):
            return code
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def ai_provider(row: dict) -> str | None:
    text = " ".join(row.get(c, "") for c in ("ServiceName", "SkuId", "ChargeDescription"))
    for pattern, code in _AI_SERVICES:
        if pattern.search(text):
            return code
    if row.get("ServiceSubcategory", "").strip().lower() == "generative ai":
        return provider_code(row.get("ProviderName", ""))
    return None


def read_focus(stream: BinaryIO, *, cost_view: str = "billed") -> Iterator[ParsedLine | RowError]:
    cost_column = COST_COLUMNS[cost_view]
    for line_no, row in csv_rows(stream, required=(*REQUIRED, cost_column), aliases=RENAMED_1_3, null_literal="NULL"):
        if isinstance(row, str):
            yield RowError(line_no, "(row)", row)
            continue
        try:
            yield _line(line_no, row, cost_column)
        except RowProblem as problem:
            yield RowError(line_no, problem.field, problem.message)


def _line(line_no: int, row: dict, cost_column: str) -> ParsedLine:
    amount = as_amount(row.get(cost_column), cost_column)
    if amount is None:
        raise RowProblem(cost_column, "is required")
    category = as_charge_category(row.get("ChargeCategory"))
    if category == "Credit":
        amount = -abs(amount)
    provider_name = as_text(row.get("ProviderName"), "ProviderName", required=True)
    invoice_provider = provider_code(provider_name)
    period = as_instant(row.get("BillingPeriodStart"), "BillingPeriodStart")
    start = as_instant(row.get("ChargePeriodStart"), "ChargePeriodStart")
    end = as_instant(row.get("ChargePeriodEnd"), "ChargePeriodEnd")
    if end < start:
        raise RowProblem("ChargePeriodEnd", "is before ChargePeriodStart")
    invoice_id = as_text(row.get("InvoiceId"), "InvoiceId")
    ai = ai_provider(row)
    service = as_text(row.get("ServiceName"), "ServiceName", required=True)
    meter = as_text(row.get("SkuMeter"), "SkuMeter")
    description = as_text(row.get("ChargeDescription"), "ChargeDescription", max_length=1000)
    model_hint, model_raw, cost_source = "", "", "other"
    if ai and category == "Usage":
        usage_type = row.get("x_UsageType", "") or row.get("SkuId", "")
        cur_model, cur_raw, cur_source = ("", "", "")
        if "token" in usage_type.lower():
            cur_model, cur_raw, cur_source = split_cur_usage_type(usage_type)
        model_raw = as_text(row.get("x_Model"), "x_Model") or cur_raw or model_from_description(description)
        model_hint = cur_model
        cost_source = token_kind(meter) if meter else (cur_source or token_kind(description))
    quantity = as_quantity(row.get("ConsumedQuantity"), "ConsumedQuantity")
    unit = as_text(row.get("ConsumedUnit"), "ConsumedUnit", max_length=60)
    if quantity is None:
        quantity = as_quantity(row.get("PricingQuantity"), "PricingQuantity")
        unit = as_text(row.get("PricingUnit"), "PricingUnit", max_length=60)
    return ParsedLine(
        line=line_no,
        invoice_provider=invoice_provider,
        invoice_number=invoice_id or f"{invoice_provider}-focus-{period:%Y-%m}",
        derived_number=not invoice_id,
        billing_period=month_start(period),
        currency=as_currency(row.get("BillingCurrency"), "BillingCurrency"),
        charge_period_start=start,
        charge_period_end=end,
        amount=amount,
        provider=ai or invoice_provider,
        service=service,
        model_raw=model_raw,
        model_hint=model_hint,
        cost_source=cost_source,
        usage_type=meter or as_text(row.get("SkuId"), "SkuId", max_length=300),
        charge_category=category,
        is_ai=bool(ai),
        quantity=quantity,
        unit=unit,
        tags=as_json_object(row.get("Tags"), "Tags"),
        raw={k: v for k, v in row.items() if v != ""},
    )
