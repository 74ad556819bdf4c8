"""Reads over bills. Reconciliation aggregates ``InvoiceLine`` the same way (``invoice_line_totals``)."""

from datetime import date

from django.db.models import Count, Max, Min, QuerySet, Sum

from apps.fx.convert import charge_days
from apps.periods.selectors import settled_periods
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import InvoiceIngestJob, InvoiceLine, InvoiceLineRestatement, ProviderInvoice


@tenant_scoped
def months_with_invoices(*, organization: Organization) -> set[date]:
    """The billing months the organisation has invoices of (a month source of the periods board)."""
    return set(ProviderInvoice.objects.filter(organization=organization).values_list("billing_period", flat=True))


@tenant_scoped
def has_invoices_in(*, organization: Organization, period: date) -> bool:
    return ProviderInvoice.objects.filter(organization=organization, billing_period=period).exists()


@tenant_scoped
def invoices(
    *, organization: Organization, period: date | None = None, provider: str = ""
) -> QuerySet[ProviderInvoice]:
    queryset = ProviderInvoice.objects.annotate(
        line_count=Count("lines", distinct=True), restated_count=Count("restatements", distinct=True)
    )
    if period:
        queryset = queryset.filter(billing_period=period)
    if provider:
        queryset = queryset.filter(provider=provider)
    return queryset.order_by("-billing_period", "provider", "invoice_number")


@tenant_scoped
def invoice_period_totals(*, organization: Organization, provider: str = "") -> list[dict]:
    """Total per (period, provider, currency): the invoice list's summary."""
    queryset = ProviderInvoice.objects.all()
    if provider:
        queryset = queryset.filter(provider=provider)
    return list(
        queryset.values("billing_period", "provider", "currency")
        .annotate(total_nano=Sum("total_nano"), invoices=Count("id"))
        .order_by("-billing_period", "provider", "currency")
    )


@tenant_scoped(via="invoice")
def invoice_lines(*, invoice: ProviderInvoice, is_ai: bool | None = None) -> QuerySet[InvoiceLine]:
    queryset = InvoiceLine.objects.filter(invoice=invoice)
    if is_ai is not None:
        queryset = queryset.filter(is_ai=is_ai)
    return queryset.order_by("charge_period_start", "provider", "model", "cost_source", "id")


@tenant_scoped(via="invoice")
def invoice_restatements(*, invoice: ProviderInvoice) -> QuerySet[InvoiceLineRestatement]:
    """The lines of an invoice that later reports superseded, latest first, with the import that did it."""
    return (
        InvoiceLineRestatement.objects.filter(invoice=invoice)
        .select_related("superseded_by_job", "job")
        .order_by("-superseded_at", "charge_period_start", "model", "cost_source", "-id")
    )


@tenant_scoped
def invoice_line_totals(*, organization: Organization, lines: QuerySet[InvoiceLine], by: tuple[str, ...]) -> list[dict]:
    """Exact sums (integer nano-units) of lines grouped by the given fields, e.g. ("model", "cost_source"), and
    always by currency: amounts of different currencies are never added (each row says its ``currency``)."""
    group = (*by, "currency") if "currency" not in by else by
    return list(lines.values(*group).annotate(amount_nano=Sum("amount_nano"), lines=Count("id")).order_by(*group))


@tenant_scoped
def invoice_totals_by_currency(
    *, organization: Organization, period: date | None = None, provider: str = "", is_ai: bool | None = None
) -> dict[str, int]:
    """The exact sum of the organisation's invoice lines per currency (nano-units), e.g. {"EUR": …, "USD": …}:
    one figure per currency, never a sum across them."""
    lines = InvoiceLine.objects.filter(organization=organization)
    if period:
        lines = lines.filter(billing_period=period)
    if provider:
        lines = lines.filter(provider=provider)
    if is_ai is not None:
        lines = lines.filter(is_ai=is_ai)
    return {
        row["currency"]: row["amount_nano"] or 0
        for row in lines.values("currency").annotate(amount_nano=Sum("amount_nano")).order_by("currency")
    }


@tenant_scoped
def invoice_ingest_jobs(*, organization: Organization) -> QuerySet[InvoiceIngestJob]:
    return InvoiceIngestJob.objects.order_by("-created_at", "-id")


@tenant_scoped
def rate_demand(*, organization: Organization) -> list[tuple[str, date, date]]:
    """The currencies other than the base currency that invoice lines of billing months not yet approved or
    closed are in, with the first and last day their charge periods cover: the days a run will need rates for (a rate
    demand of ``fx``)."""
    settled = settled_periods(organization=organization)
    rows = (
        InvoiceLine.objects.filter(organization=organization)
        .exclude(currency=organization.base_currency)
        .exclude(billing_period__in=settled)
        .values("currency", "billing_period")
        .annotate(start=Min("charge_period_start"), end=Max("charge_period_end"))
        .order_by("currency", "billing_period")
    )
    demands = []
    for row in rows:
        first, _ = charge_days(row["start"], row["start"])
        _, last = charge_days(row["start"], row["end"])
        demands.append((row["currency"], first, last))
    return demands
