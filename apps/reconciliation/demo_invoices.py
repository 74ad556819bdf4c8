"""Demo bills for acme: every full month of its demo usage (November 2025 to November 2026) from openai,
anthropic and google, written as real files in each provider's own format (OpenAI Costs pages, an Anthropic
cost report in cents, a FOCUS CSV for Vertex AI) and ingested through the real ingest path.

The amounts follow acme's demo usage (the DailyUsage cube, priced by the price book) with a fixed variance
per provider: openai +2.1%, google -1.4% and anthropic +6.3%, just outside the default 5% tolerance, so the
reconciliation demo shows both states. Idempotent: a provider's month that already has its invoice is skipped.

globex (EUR) is billed September and October 2026: Azure OpenAI as a FOCUS export in EUR (+1.8%), Google
Cloud as a FOCUS export in EUR (-1.2%) and Anthropic's cost report in USD (+2.4%), all within tolerance. Its
usage is estimated in USD (the list prices), so the EUR bills are the cube's amounts converted at the ECB
reference rate of each usage day (``apps.fx``, loaded by its demo seeder) before the variance: a run
converting the same estimates at the same rates finds exactly the set variance. November has no bills yet
(and no shipped ECB rate: the history ends on 2026-10-30).

Here, not in invoices, because the bills are made from the usage cube to give the reconciliation demo its
variances: reconciliation stands above both usage and invoices. ``demo.seed_demo`` runs it first.
"""

import io
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from apps.core.money import nano_to_decimal
from apps.invoices.models import InvoiceIngestJob, ProviderInvoice
from apps.invoices.services.ingest import invoice_ingest_create
from apps.invoices.tasks import run_invoice_ingest
from apps.tenancy.scoping import organization_scope
from apps.usage.models import COST_COLUMNS as CUBE_COST_COLUMNS

# 2025-11 to 2026-11: the thirteen full months of acme's demo usage (December 2026 is still running).
MONTHS = [date(2025, 11, 1), date(2025, 12, 1), *(date(2026, month, 1) for month in range(1, 12))]
VARIANCE_PCT = {"openai": Decimal("2.1"), "google": Decimal("-1.4"), "anthropic": Decimal("6.3")}
GLOBEX_MONTHS = [date(2026, 9, 1), date(2026, 10, 1)]
GLOBEX_VARIANCE_PCT = {"azure-openai": Decimal("1.8"), "google": Decimal("-1.2"), "anthropic": Decimal("2.4")}
# The currency each of globex's providers bills in (the usage is estimated in USD).
GLOBEX_BILLING_CURRENCY = {"azure-openai": "EUR", "google": "EUR", "anthropic": "USD"}
COST_COLUMNS = {source: cost for source, (cost, _quantity) in CUBE_COST_COLUMNS.items()}
MICRO = Decimal("0.000001")
GOOGLE_STORAGE = Decimal("12.40")  # other cloud cost on the same FOCUS bill (is_ai false)


def seed_demo_invoices(*, organization, stdout) -> None:
    if organization.slug == "globex":
        _seed_globex(organization=organization, stdout=stdout)
        return
    if organization.slug != "acme":
        return
    cube = _usage_cube(organization)
    if not cube:
        stdout.write("  acme: no demo usage yet, so no demo invoices (run the usage seeder first)")
        return
    files = {
        "openai": ("acme-openai-costs-2025-11-to-2026-11.ndjson", _openai_pages),
        "anthropic": ("acme-anthropic-cost-report-2025-11-to-2026-11.json", _anthropic_report),
        "google": ("acme-gcp-focus-2025-11-to-2026-11.csv", _google_focus),
    }
    for provider, (file_name, writer) in files.items():
        months = {
            month: lines
            for month, lines in cube.get(provider, {}).items()
            if not _already_billed(organization, provider, month)
        }
        if not months:
            stdout.write(f"  acme: demo {provider} invoices already ingested")
            continue
        content = writer({month: _billed(lines, VARIANCE_PCT[provider]) for month, lines in months.items()})
        job, _ = invoice_ingest_create(
            organization=organization,
            actor=None,
            file_name=file_name,
            stream=io.BytesIO(content.encode()),
            channel=InvoiceIngestJob.Channel.DEMO,
            enqueue=False,
        )
        run_invoice_ingest.apply(args=[job.pk])
        with organization_scope(organization):
            job.refresh_from_db()
        stdout.write(
            f"  acme: ingested {provider} demo invoices for {len(months)} month(s), {job.accepted} lines ({job.status})"
        )


def _invoice_number(provider: str, month: date, slug: str = "acme") -> str:
    return {
        "openai": f"openai-costs-{month:%Y-%m}",
        "anthropic": f"anthropic-cost-{month:%Y-%m}",
        "google": f"GCP-{month:%Y%m}-{slug.upper()}",
        "azure": f"AZ-{month:%Y%m}-{slug.upper()}",
    }[provider]


def _already_billed(organization, provider: str, month: date) -> bool:
    invoice_provider = "azure" if provider == "azure-openai" else provider
    with organization_scope(organization):
        return ProviderInvoice.objects.filter(
            provider=invoice_provider,
            billing_period=month,
            invoice_number=_invoice_number(invoice_provider, month, organization.slug),
        ).exists()


def _seed_globex(*, organization, stdout) -> None:
    cube = _daily_cube(organization, GLOBEX_MONTHS, list(GLOBEX_VARIANCE_PCT))
    if not cube:
        stdout.write("  globex: no demo usage yet, so no demo invoices (run the usage seeder first)")
        return
    files = {
        "azure-openai": ("globex-azure-focus-2026-09-to-10.csv", _azure_focus),
        "anthropic": ("globex-anthropic-cost-report-2026-09-to-10.json", _anthropic_report),
        "google": ("globex-gcp-focus-2026-09-to-10.csv", _google_focus),
    }
    for provider, (file_name, writer) in files.items():
        months = {
            month: days
            for month, days in cube.get(provider, {}).items()
            if not _already_billed(organization, provider, month)
        }
        if not months:
            stdout.write(f"  globex: demo {provider} invoices already ingested")
            continue
        currency = GLOBEX_BILLING_CURRENCY[provider]
        billed = {
            month: _billed(_in_currency(organization, days, currency), GLOBEX_VARIANCE_PCT[provider])
            for month, days in months.items()
        }
        content = (
            writer(billed, slug=organization.slug, currency=currency)
            if writer is not _anthropic_report
            else writer(billed)
        )
        job, _ = invoice_ingest_create(
            organization=organization,
            actor=None,
            file_name=file_name,
            stream=io.BytesIO(content.encode()),
            channel=InvoiceIngestJob.Channel.DEMO,
            enqueue=False,
        )
        run_invoice_ingest.apply(args=[job.pk])
        with organization_scope(organization):
            job.refresh_from_db()
        stdout.write(
            f"  globex: ingested {provider} demo invoices in {currency} for {len(months)} month(s), "
            f"{job.accepted} lines ({job.status})"
        )


def _daily_cube(organization, months: list[date], providers: list[str]) -> dict:
    """provider -> month -> [(day, model, cost source, currency, estimated nano)] from the DailyUsage cube."""
    from apps.usage.models import DailyUsage

    with organization_scope(organization):
        rows = (
            DailyUsage.objects.filter(day__gte=months[0], day__lt=_next_month(months[-1]), provider__in=providers)
            .values("provider", "day", "model", "currency")
            .annotate(**{source: Sum(column) for source, column in COST_COLUMNS.items()})
            .order_by("provider", "day", "model", "currency")
        )
        cube: dict = defaultdict(lambda: defaultdict(list))
        for row in rows:
            month = date(row["day"].year, row["day"].month, 1)
            for source in COST_COLUMNS:
                if row[source]:
                    cube[row["provider"]][month].append(
                        (row["day"], row["model"], source, row["currency"], row[source])
                    )
    return cube


def _in_currency(organization, days: list, currency: str) -> list[tuple[str, str, int]]:
    """A month's daily amounts as [(model, cost source, nano in ``currency``)]: each day's amount converted at
    that day's ECB reference rate (rounded once to the nano), then summed per model and cost source. A day
    without a rate raises ``RateGap``: a demo bill is never made from an invented rate."""
    from apps.fx.selectors import rate_table_for

    first, last = min(day for day, *_ in days), max(day for day, *_ in days)
    with organization_scope(organization):
        table = rate_table_for(
            organization=organization, currencies={currency, *(c for *_, c, _n in days)}, first=first, last=last
        )
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for day, model, source, from_currency, nano in days:
        totals[(model, source)] += table.rate_on(day, from_currency, currency).apply(nano)
    return [(model, source, nano) for (model, source), nano in sorted(totals.items())]


def _usage_cube(organization) -> dict:
    """provider -> month -> [(model, cost source, estimated nano)] from the DailyUsage cube (exact integer sums)."""
    from apps.usage.models import DailyUsage

    with organization_scope(organization):
        rows = (
            DailyUsage.objects.filter(
                day__gte=MONTHS[0], day__lt=_next_month(MONTHS[-1]), provider__in=list(VARIANCE_PCT)
            )
            .annotate(month=TruncMonth("day"))
            .values("provider", "month", "model")
            .annotate(**{source: Sum(column) for source, column in COST_COLUMNS.items()})
            .order_by("provider", "month", "model")
        )
        cube: dict = defaultdict(lambda: defaultdict(list))
        for row in rows:
            month = row["month"] if isinstance(row["month"], date) else row["month"].date()
            month = date(month.year, month.month, 1)
            for source in COST_COLUMNS:
                if row[source]:
                    cube[row["provider"]][month].append((row["model"], source, row[source]))
    return cube


def _billed(lines: list, variance_pct: Decimal) -> list[tuple[str, str, Decimal]]:
    factor = 1 + variance_pct / 100
    return [
        (model, source, (nano_to_decimal(nano) * factor).quantize(MICRO, ROUND_HALF_EVEN))
        for model, source, nano in lines
    ]


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _json_with_decimals(document) -> str:
    """JSON where Decimal amounts are written as JSON numbers with their exact digits (as the API does)."""
    text = json.dumps(document, default=lambda value: f"__decimal__{value}__")
    return re.sub(r'"__decimal__([-0-9.E+]+)__"', r"\1", text)


OPENAI_KIND = {"input": "input", "output": "output", "cache_read": "cached input"}


def _openai_pages(months: dict) -> str:
    """One Costs API page per month, as NDJSON (the result of following next_page)."""
    pages = []
    ordered = sorted(months)
    for index, month in enumerate(ordered):
        results = []
        for model, source, amount in months[month]:
            line_item = f"{model}, {OPENAI_KIND[source]}" if source in OPENAI_KIND else "web search tool calls"
            results.append(
                {
                    "object": "organization.costs.result",
                    "amount": {"value": amount, "currency": "usd"},
                    "line_item": line_item,
                    "project_id": None,
                }
            )
        bucket = {
            "object": "bucket",
            "start_time": _epoch(month),
            "end_time": _epoch(_next_month(month)),
            "results": results,
        }
        last = index == len(ordered) - 1
        pages.append(
            {
                "object": "page",
                "data": [bucket],
                "has_more": not last,
                "next_page": None if last else f"page_{index + 1}",
            }
        )
    return "\n".join(_json_with_decimals(page) for page in pages) + "\n"


ANTHROPIC_TOKEN = {
    "input": "uncached_input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation.ephemeral_5m_input_tokens",
}


def _anthropic_report(months: dict) -> str:
    """A cost report: ``amount`` is a decimal string in cents."""
    data = []
    for month in sorted(months):
        results = []
        for model, source, amount in months[month]:
            cents = f"{amount.scaleb(2).normalize():f}"
            tool = source == "tool_calls"
            results.append(
                {
                    "currency": "USD",
                    "amount": cents,
                    "workspace_id": "wrkspc_assistant",
                    "description": f"{model} {'web search' if tool else ANTHROPIC_TOKEN[source]}",
                    "cost_type": "web_search" if tool else "tokens",
                    "context_window": None if tool else "0-200k",
                    "model": model,
                    "service_tier": "standard",
                    "token_type": None if tool else ANTHROPIC_TOKEN[source],
                }
            )
        data.append(
            {
                "starting_at": f"{month.isoformat()}T00:00:00Z",
                "ending_at": f"{_next_month(month).isoformat()}T00:00:00Z",
                "results": results,
            }
        )
    return json.dumps({"data": data, "has_more": False, "next_page": None}, indent=1)


FOCUS_HEADER = (
    "BilledCost,EffectiveCost,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
    "ChargeCategory,ChargeDescription,InvoiceId,ProviderName,PublisherName,InvoiceIssuerName,ServiceName,"
    "ServiceCategory,ServiceSubcategory,SkuId,SkuMeter,ConsumedQuantity,ConsumedUnit,PricingQuantity,PricingUnit,Tags"
)
FOCUS_METER = {
    "input": "Input Tokens",
    "output": "Output Tokens",
    "cache_read": "Cached Input Tokens",
    "cache_write": "Cache Write Tokens",
    "tool_calls": "Grounding Requests",
}


def _google_focus(months: dict, *, slug: str = "acme", currency: str = "USD") -> str:
    rows = [FOCUS_HEADER]
    for month in sorted(months):
        start, end = month.isoformat(), _next_month(month).isoformat()
        invoice = _invoice_number("google", month, slug)
        for model, source, amount in months[month]:
            meter = FOCUS_METER[source]
            rows.append(
                f"{amount},{amount},{currency},{start},{end},{start},{end},Usage,{model} {meter.lower()},{invoice},"
                f"Google Cloud,Google,Google Cloud,Vertex AI,AI and Machine Learning,Generative AI,"
                f"VTX-{model}-{source},{meter},NULL,NULL,NULL,1000000 Tokens,NULL"
            )
        rows.append(
            f"{GOOGLE_STORAGE},{GOOGLE_STORAGE},{currency},{start},{end},{start},{end},Usage,Standard storage,"
            f"{invoice},Google Cloud,Google,Google Cloud,Cloud Storage,Storage,NULL,GCS-STD,NULL,620,GiB-months,620,"
            "GiB-months,NULL"
        )
    return "\n".join(rows) + "\n"


def _azure_focus(months: dict, *, slug: str, currency: str) -> str:
    """Azure's FOCUS export: Azure OpenAI (Global Standard) token meters, billed in ``currency``."""
    rows = [FOCUS_HEADER]
    for month in sorted(months):
        start, end = month.isoformat(), _next_month(month).isoformat()
        invoice = _invoice_number("azure", month, slug)
        for model, source, amount in months[month]:
            meter = FOCUS_METER[source]
            rows.append(
                f"{amount},{amount},{currency},{start},{end},{start},{end},Usage,{model} {meter.lower()},{invoice},"
                f"Microsoft,Microsoft,Microsoft,Azure OpenAI,AI and Machine Learning,Generative AI,"
                f"AOAI-{model}-{source},{meter},NULL,NULL,NULL,1000000 Tokens,NULL"
            )
    return "\n".join(rows) + "\n"
