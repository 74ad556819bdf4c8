"""Reads over reconciliation runs: the latest run of a period, history, trend, charts and readiness.

Each read takes the organisation (or a run, which belongs to one) and runs in its scope
(``apps.tenancy.scoping.tenant_scoped``)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from django.db.models import QuerySet, Sum

from apps.core.calendar import period_bounds
from apps.fx.models import Conversion
from apps.fx.selectors import conversion_currencies
from apps.invoices.models import InvoiceLine, ProviderInvoice
from apps.tenancy.models import Organization
from apps.tenancy.roles import Perm
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import DailyUsage
from apps.usage.selectors import cube_sum_by_currency

from . import conversion
from .engine import variance_pct
from .formatting import money as money_text
from .formatting import normalised_pct, provider_figures
from .models import ReconciliationLine, ReconciliationRun

# The readiness panel shows platform overhead red above this share of total AI cost. Shared platform
# cost (gateway, evaluation, internal tooling) above a fifth of the spend usually means usage is being
# charged to a central team instead of the teams that cause it.
PLATFORM_OVERHEAD_THRESHOLD_PCT = Decimal("20")

TREND_PERIODS = 12


@tenant_scoped
def runs(*, organization: Organization, period: date | None = None) -> QuerySet[ReconciliationRun]:
    queryset = ReconciliationRun.objects.all()
    if period is not None:
        queryset = queryset.filter(period=period)
    return queryset.order_by("-period", "-created_at", "-id")


@tenant_scoped
def latest_run(*, organization: Organization, period: date | None = None) -> ReconciliationRun | None:
    """The current answer for a period (or, without one, the latest run of the latest reconciled period)."""
    return runs(organization=organization, period=period).first()


@tenant_scoped(via="run")
def run_lines(*, run: ReconciliationRun, level: str) -> QuerySet[ReconciliationLine]:
    return ReconciliationLine.objects.filter(run=run, level=level).order_by("provider", "key", "id")


@tenant_scoped
def periods_to_reconcile(*, organization: Organization) -> list[date]:
    """Months with invoices or runs, newest first: what the period picker offers."""
    periods = set(ProviderInvoice.objects.values_list("billing_period", flat=True).distinct())
    periods |= set(ReconciliationRun.objects.values_list("period", flat=True).distinct())
    return sorted(periods, reverse=True)


@tenant_scoped
def trend(*, organization: Organization, periods: int = TREND_PERIODS) -> list[dict]:
    """The latest run of each of the last reconciled periods, oldest first, with its provider lines."""
    recent = ReconciliationRun.objects.values_list("period", flat=True).distinct().order_by("-period")[:periods]
    chosen = [latest_run(organization=organization, period=period) for period in sorted(recent)]
    lines = ReconciliationLine.objects.filter(run__in=chosen, level="provider").order_by("provider")
    by_run: dict[int, list] = {}
    for line in lines:
        by_run.setdefault(line.run_id, []).append(line)
    return [{"run": run, "providers": by_run.get(run.pk, [])} for run in chosen]


@dataclass(frozen=True)
class Bar:
    label: str
    estimated_nano: int
    invoiced_nano: int | None
    estimated_height: int
    invoiced_height: int
    within: bool | None
    baseline: int = 105

    @property
    def estimated_y(self) -> int:
        return self.baseline - self.estimated_height

    @property
    def invoiced_y(self) -> int:
        return self.baseline - self.invoiced_height


@tenant_scoped(via="run")
def day_chart(*, run: ReconciliationRun, provider: str, height: int = 100) -> list[Bar]:
    """Estimated vs invoiced per day for one provider, with bar heights scaled to ``height`` (integers)."""
    lines = [line for line in run_lines(run=run, level="day").filter(provider=provider) if line.key]
    top = max([abs(line.estimated_nano) for line in lines] + [abs(line.invoiced_nano or 0) for line in lines] + [1])
    return [
        Bar(
            label=line.key,
            estimated_nano=line.estimated_nano,
            invoiced_nano=line.invoiced_nano,
            estimated_height=abs(line.estimated_nano) * height // top,
            invoiced_height=abs(line.invoiced_nano or 0) * height // top,
            within=line.within_tolerance,
        )
        for line in lines
    ]


MODEL_CHART_SCALE_PCT = Decimal("20")


@tenant_scoped(via="run")
def model_chart(*, run: ReconciliationRun, scale_pct: Decimal = MODEL_CHART_SCALE_PCT) -> list[dict]:
    """Variance % per model as diverging bars: width in percent of half the chart, capped at ``scale_pct``."""
    rows = []
    for line in run_lines(run=run, level="model"):
        pct = line.variance_pct
        width = 0 if pct is None else int(min(abs(pct), scale_pct) * 100 / scale_pct)
        rows.append({"line": line, "width": width, "negative": pct is not None and pct < 0})
    return rows


@dataclass(frozen=True)
class Readiness:
    run: ReconciliationRun | None
    providers: list
    untagged_team: int
    untagged_feature: int
    overhead_pct: Decimal | None
    overhead_threshold_pct: Decimal = PLATFORM_OVERHEAD_THRESHOLD_PCT

    @property
    def tagging_ok(self) -> bool:
        return self.untagged_team == 0 and self.untagged_feature == 0

    @property
    def overhead_ok(self) -> bool:
        return self.overhead_pct is not None and self.overhead_pct <= self.overhead_threshold_pct


@tenant_scoped
def readiness(*, organization: Organization) -> Readiness:
    """The chargeback-readiness KPIs of the latest reconciled period (the organisation home panel)."""
    run = latest_run(organization=organization)
    if run is None:
        return Readiness(run=None, providers=[], untagged_team=0, untagged_feature=0, overhead_pct=None)
    return Readiness(
        run=run,
        providers=list(run_lines(run=run, level="provider")),
        untagged_team=run.untagged.get("team", {}).get("requests", 0),
        untagged_feature=run.untagged.get("feature", {}).get("requests", 0),
        overhead_pct=run.platform_overhead_pct,
    )


@tenant_scoped(via="run")
def run_summary(*, run: ReconciliationRun) -> dict:
    """The ``reconcile --json`` object: exactly period, tolerance, providers, untagged requests, overhead."""
    return {
        "period": run.period_label,
        "tolerance_pct": normalised_pct(run.tolerance_pct),
        "providers": [provider_figures(line, run.currency) for line in run_lines(run=run, level="provider")],
        "untagged_requests": {key: run.untagged.get(key, {}).get("requests", 0) for key in ("team", "feature")},
        "platform_overhead_pct": str(run.platform_overhead_pct),
    }


POLICY_TEXT = {
    "usage_day": "the rate of each usage day (an invoice line: its day's rate, or the mean over its charge period)",
    "month_average": "the mean of the period's published daily rates",
    "period_end": "the rate of the period's last day",
}


@dataclass(frozen=True)
class CurrencyConversion:
    """What one currency became in the run's currency: totals, the range of rates and how many."""

    from_currency: str
    to_currency: str
    amount_nano: int
    converted_nano: int
    rates: int
    amounts: int
    lowest: Decimal
    highest: Decimal
    first_day: date | None
    last_day: date | None
    sources: tuple[str, ...]

    @property
    def effective(self) -> Decimal | None:
        """Converted ÷ source amount, to six places (what the mix of rates came to)."""
        if not self.amount_nano:
            return None
        with localcontext() as context:
            context.prec = 40
            return (Decimal(self.converted_nano) / Decimal(self.amount_nano)).quantize(Decimal("0.000001"))

    @property
    def text(self) -> str:
        days = ""
        if self.first_day is not None:
            days = (
                f" of {self.first_day.isoformat()}"
                if self.first_day == self.last_day
                else f" of {self.first_day.isoformat()} to {self.last_day.isoformat()}"
            )
        span = (
            f"{_rate_text(self.lowest)}"
            if self.lowest == self.highest
            else f"{_rate_text(self.lowest)}–{_rate_text(self.highest)}"
        )
        effective = f"; effective {_rate_text(self.effective)}" if self.effective is not None else ""
        rates = f"{self.rates} rate{'s' if self.rates != 1 else ''}"
        return (
            f"{money_text(self.amount_nano, self.from_currency)} {self.from_currency} → "
            f"{money_text(self.converted_nano, self.to_currency)} {self.to_currency} at {', '.join(self.sources)} "
            f"rates{days} ({rates}, {span} {self.to_currency} per {self.from_currency}{effective})"
        )


def _rate_text(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.000001')):f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


@dataclass(frozen=True)
class RunConversion:
    conversion: object | None  # apps.fx.models.Conversion
    policy_text: str
    currencies: list[CurrencyConversion]
    lines: list  # apps.fx.models.ConversionLine, by currency and day


@tenant_scoped(via="run")
def run_conversion(*, run: ReconciliationRun) -> RunConversion | None:
    """The rates a run used, per currency and per rate (None when nothing was converted)."""
    if run.conversion_id is None:
        return None
    conversion_row = Conversion.objects.get(pk=run.conversion_id)
    by_currency = conversion_currencies(conversion=conversion_row)
    lines = [line for of in by_currency for line in of.lines]
    currencies = [
        CurrencyConversion(
            from_currency=of.from_currency,
            to_currency=of.to_currency,
            amount_nano=of.amount_nano,
            converted_nano=of.converted_nano,
            rates=len(of.lines),
            amounts=sum(line.amounts for line in of.lines),
            lowest=min(line.rate_display for line in of.lines),
            highest=max(line.rate_display for line in of.lines),
            first_day=of.first_day,
            last_day=of.last_day,
            sources=tuple(sorted({line.source for line in of.lines})),
        )
        for of in by_currency
    ]
    return RunConversion(
        conversion=conversion_row,
        policy_text=POLICY_TEXT.get(conversion_row.policy, conversion_row.policy),
        currencies=currencies,
        lines=lines,
    )


@tenant_scoped(via="membership")
def readiness_for(*, membership) -> Readiness | None:
    """The readiness panel for the home page, or None for roles that do not see organisation-wide cost."""
    if not any(membership.has_perm(perm) for perm in (Perm.PREPARE_PERIOD, Perm.VIEW_ALL_COST)):
        return None
    return readiness(organization=membership.organization)


# --- the figures of the periods board ---------------------------------------------------------


@tenant_scoped
def latest_runs(*, organization: Organization, periods: list[date]) -> dict[date, ReconciliationRun]:
    latest: dict[date, ReconciliationRun] = {}
    for run in ReconciliationRun.objects.filter(period__in=periods).order_by("period", "-created_at", "-id"):
        latest.setdefault(run.period, run)
    return latest


@dataclass(frozen=True)
class Figures:
    """Estimated and invoiced AI cost of a month in the organisation's base currency: from its latest
    reconciliation run, or live when the month has not been reconciled yet. Live figures convert amounts of
    other currencies on the fly (``converted``: provisional until a run records the rates); when a rate is
    missing they cannot be given and ``fx_gap`` says which (the amounts are then None)."""

    estimated_nano: int | None
    invoiced_nano: int | None
    source: str  # "run" or "live"
    run: ReconciliationRun | None = None
    fx_gap: str = ""
    converted: bool = False

    @property
    def variance_nano(self) -> int | None:
        if self.estimated_nano is None or self.invoiced_nano is None:
            return None
        return self.invoiced_nano - self.estimated_nano

    @property
    def variance_pct(self) -> Decimal | None:
        if self.estimated_nano is None or self.invoiced_nano is None:
            return None
        return variance_pct(estimated_nano=self.estimated_nano, invoiced_nano=self.invoiced_nano)

    @property
    def within(self) -> bool | None:
        return None if self.run is None else self.run.status == ReconciliationRun.Status.WITHIN

    @property
    def legacy(self) -> bool:
        return self.run is not None and self.run.legacy_unconverted


def _live_figures(organization: Organization, periods: list[date]) -> dict[date, Figures]:
    """Figures of months without a run: the base currency's amounts as they are, every other currency's
    converted with the organisation's policy (a usage day at its rate, an invoice charge period at the mean
    of its days); never a sum across currencies."""
    base = organization.base_currency
    lines = InvoiceLine.objects.filter(organization=organization, billing_period__in=periods, is_ai=True)
    invoiced_base = dict(
        lines.filter(currency=base)
        .values("billing_period")
        .annotate(total=Sum("amount_nano"))
        .order_by()
        .values_list("billing_period", "total")
    )
    foreign_lines: dict[date, list[dict]] = {}
    for row in (
        lines.exclude(currency=base)
        .values("billing_period", "currency", "charge_period_start", "charge_period_end")
        .annotate(total=Sum("amount_nano"))
        .order_by("billing_period", "currency", "charge_period_start", "charge_period_end")
    ):
        foreign_lines.setdefault(row["billing_period"], []).append(row)
    result: dict[date, Figures] = {}
    for period in periods:
        first, after = period_bounds(period, start_day=organization.period_start_day)
        estimated = cube_sum_by_currency(organization=organization, first=first, after=after)
        batch = conversion.Batch(organization=organization, period_start=first, period_end=after - timedelta(days=1))
        usage_items = []
        if any(currency != base for currency in estimated):
            usage_items = [
                batch.add(row["n"] or 0, row["currency"], day=row["day"])
                for row in DailyUsage.objects.filter(organization=organization, day__gte=first, day__lt=after)
                .exclude(currency=base)
                .values("day", "currency")
                .annotate(n=Sum("estimated_nano"))
                .order_by("day", "currency")
            ]
        invoice_items = []
        for row in foreign_lines.get(period, []):
            start, end = conversion.charge_days(row["charge_period_start"], row["charge_period_end"])
            invoice_items.append(batch.add(row["total"] or 0, row["currency"], start=start, end=end))
        try:
            batch.run()
        except conversion.RateGap as gap:
            result[period] = Figures(None, None, "live", fx_gap=gap.message)
            continue
        result[period] = Figures(
            estimated.get(base, 0) + sum(batch.converted[index] for index in usage_items),
            (invoiced_base.get(period) or 0) + sum(batch.converted[index] for index in invoice_items),
            "live",
            converted=batch.converter is not None,
        )
    return result


@tenant_scoped
def period_figures(*, organization: Organization, periods: list[date]) -> dict[date, Figures]:
    """The figures the periods board and a period's page show (registered with
    ``apps.periods.hooks.register_period_figures``)."""
    runs = latest_runs(organization=organization, periods=periods)
    result = {period: Figures(run.estimated_nano, run.invoiced_nano, "run", run) for period, run in runs.items()}
    live = [period for period in periods if period not in runs]
    if live:
        result.update(_live_figures(organization, live))
    return result


# --- readiness over time (the showback dashboard's trend) ----------------------------------------


@dataclass(frozen=True)
class ReadinessMonth:
    """The three chargeback-readiness KPIs of one month, from that month's latest reconciliation run
    (``run`` None: the month has not been reconciled, and the figures are None)."""

    month: date
    run: ReconciliationRun | None
    providers: tuple = ()  # the run's provider lines (variance per provider)
    overhead_threshold_pct: Decimal = PLATFORM_OVERHEAD_THRESHOLD_PCT

    @property
    def variance_pct(self) -> Decimal | None:
        """Overall variance: (invoiced − estimated) / invoiced, as the run's own figures."""
        if self.run is None:
            return None
        return variance_pct(estimated_nano=self.run.estimated_nano, invoiced_nano=self.run.invoiced_nano)

    def _untagged(self, key: str) -> int | None:
        return None if self.run is None else self.run.untagged.get(key, {}).get("requests", 0)

    @property
    def untagged_team(self) -> int | None:
        return self._untagged("team")

    @property
    def untagged_feature(self) -> int | None:
        return self._untagged("feature")

    @property
    def total_requests(self) -> int | None:
        return None if self.run is None else self.run.total_requests

    def _share(self, count: int | None) -> Decimal | None:
        if count is None or not self.run.total_requests:
            return None
        with localcontext() as context:
            context.prec = 28
            return (Decimal(count) * 100 / Decimal(self.run.total_requests)).quantize(Decimal("0.01"))

    @property
    def untagged_team_pct(self) -> Decimal | None:
        return self._share(self.untagged_team)

    @property
    def untagged_feature_pct(self) -> Decimal | None:
        return self._share(self.untagged_feature)

    @property
    def overhead_pct(self) -> Decimal | None:
        return None if self.run is None else self.run.platform_overhead_pct

    @property
    def overhead_ok(self) -> bool | None:
        return None if self.run is None else self.run.platform_overhead_pct <= self.overhead_threshold_pct


@tenant_scoped
def readiness_trend(*, organization: Organization, months: list[date]) -> list[ReadinessMonth]:
    """``readiness`` per month (periods, first days), in the order given: each month's latest run, or a
    month without one. Two queries whatever the number of months: the runs, then their provider lines."""
    runs_by_month = latest_runs(organization=organization, periods=list(months))
    lines: dict[int, list] = {}
    chosen = [run.pk for run in runs_by_month.values()]
    if chosen:
        for line in ReconciliationLine.objects.filter(run_id__in=chosen, level="provider").order_by("provider", "id"):
            lines.setdefault(line.run_id, []).append(line)
    result = []
    for month in months:
        run = runs_by_month.get(month)
        result.append(ReadinessMonth(month=month, run=run, providers=tuple(lines.get(run.pk, [])) if run else ()))
    return result
