"""Reads over reconciliation runs: the latest run of a period, history, trend, charts and readiness.

Each read takes the organisation (or a run, which belongs to one) and runs in its scope
(``apps.tenancy.scoping.tenant_scoped``)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from apps.core.calendar import period_bounds
from apps.invoices.models import InvoiceLine, ProviderInvoice
from apps.tenancy.models import Organization
from apps.tenancy.roles import Perm
from apps.tenancy.scoping import tenant_scoped
from apps.usage.selectors import cube_sum

from .engine import variance_pct
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
    """Estimated and invoiced AI cost of a month: from its latest reconciliation run, or live when the
    month has not been reconciled yet."""

    estimated_nano: int
    invoiced_nano: int
    source: str  # "run" or "live"
    run: ReconciliationRun | None = None

    @property
    def variance_nano(self) -> int:
        return self.invoiced_nano - self.estimated_nano

    @property
    def variance_pct(self) -> Decimal | None:
        return variance_pct(estimated_nano=self.estimated_nano, invoiced_nano=self.invoiced_nano)

    @property
    def within(self) -> bool | None:
        return None if self.run is None else self.run.status == ReconciliationRun.Status.WITHIN


@tenant_scoped
def period_figures(*, organization: Organization, periods: list[date]) -> dict[date, Figures]:
    """The figures the periods board and a period's page show (registered with
    ``apps.periods.hooks.register_period_figures``)."""
    runs = latest_runs(organization=organization, periods=periods)
    result = {period: Figures(run.estimated_nano, run.invoiced_nano, "run", run) for period, run in runs.items()}
    live = [period for period in periods if period not in runs]
    if live:
        invoiced = dict(
            InvoiceLine.objects.filter(organization=organization, billing_period__in=live, is_ai=True)
            .values("billing_period")
            .annotate(total=Sum("amount_nano"))
            .order_by()
            .values_list("billing_period", "total")
        )
        for period in live:
            first, after = period_bounds(period, start_day=organization.period_start_day)
            estimated = cube_sum(organization=organization, first=first, after=after)
            result[period] = Figures(estimated, invoiced.get(period) or 0, "live")
    return result
