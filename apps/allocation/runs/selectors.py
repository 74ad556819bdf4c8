"""Reads over allocation runs for the pages and the API: which months can be shown, a run's owner rows
(footed, with bar widths, restricted to what a member may see), an owner's lines footed to the owner's
shown total, and the usage-explorer query that drills a line down to its requests.

Every read takes the organisation (or the run, which carries it) and runs in its scope. The arithmetic over
amounts already read is in ``totals``; the drill-down query in ``drilldown``; exact amounts in ``formatting``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth

from apps.core.calendar import month_before, period_bounds, period_of_day
from apps.core.money import exact_text, footed_minor_units, money_text
from apps.fx.models import Conversion
from apps.fx.selectors import conversion_currencies, conversions_currencies
from apps.invoices.models import ProviderInvoice
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import DailyUsage

from ..models import AllocationLine, AllocationRun, RuleSetVersion
from .totals import UNALLOCATED_KEY, OwnerTotal, footed_owner_totals, summary_json

# The period picker looks this far back from the newest month with data.
PICKER_MONTHS = 24


# --- periods ------------------------------------------------------------------------------------


@tenant_scoped
def allocated_periods(*, organization: Organization) -> list[date]:
    """Months with a run, newest first."""
    return list(
        AllocationRun.objects.filter(organization=organization)
        .order_by("-period")
        .values_list("period", flat=True)
        .distinct()
    )


def _usage_months(organization: Organization) -> set[date]:
    # Months are read from the (organisation, day) index one month at a time rather than by a DISTINCT
    # over the whole cube, which is large: the newest day bounds the walk.
    newest = DailyUsage.objects.filter(organization=organization).order_by("-day").values_list("day", flat=True)
    newest = newest.first()
    if newest is None:
        return set()
    month, found = period_of_day(newest, start_day=organization.period_start_day), set()
    for _ in range(PICKER_MONTHS):
        if _has_usage(organization, month):
            found.add(month)
        month = month_before(month)
    return found


def _has_usage(organization: Organization, period: date) -> bool:
    first, after = period_bounds(period, start_day=organization.period_start_day)
    return DailyUsage.objects.filter(organization=organization, day__gte=first, day__lt=after).exists()


@tenant_scoped
def known_periods(*, organization: Organization) -> list[date]:
    """Months the organisation has something for (usage, an invoice, a billing period or a run), newest
    first: what the period picker offers."""
    months = set(allocated_periods(organization=organization))
    months |= set(BillingPeriod.objects.filter(organization=organization).values_list("period", flat=True))
    months |= {
        value
        for value in ProviderInvoice.objects.filter(organization=organization)
        .annotate(month=TruncMonth("billing_period"))
        .values_list("month", flat=True)
        .distinct()
    }
    months |= _usage_months(organization)
    return sorted(months, reverse=True)


@tenant_scoped
def billing_period(*, organization: Organization, period: date) -> BillingPeriod | None:
    return BillingPeriod.objects.filter(organization=organization, period=period).first()


@tenant_scoped
def preview_versions(*, organization: Organization) -> QuerySet[RuleSetVersion]:
    """Every version of every rule set, drafts included, primary rule set first and newest first."""
    return (
        RuleSetVersion.objects.filter(organization=organization)
        .select_related("rule_set")
        .order_by("-rule_set__is_primary", "rule_set__name", "-number")
    )


@tenant_scoped
def default_preview_version(*, organization: Organization) -> RuleSetVersion | None:
    """The primary rule set's draft when there is one, else its newest published version."""
    return preview_versions(organization=organization).filter(rule_set__is_primary=True).first()


# --- owner rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerRow:
    total: OwnerTotal
    owner_id: int | None
    bar_pct: int  # width of the bar, in percent of the largest row

    @property
    def is_unallocated(self) -> bool:
        return not self.total.code


@tenant_scoped(via="run")
def owner_rows(*, run: AllocationRun, visible_ids: set[int] | None) -> list[OwnerRow]:
    """The run's per-owner totals (footed over every owner, so the full table adds up to the pool) as
    table rows with bar widths; a member who sees only some owners gets only those, and no Unallocated."""
    totals = run_owner_totals(run=run)
    ids = dict(BudgetOwner.objects.filter(organization_id=run.organization_id).values_list("code", "id"))
    shown = [total for total in totals if visible_ids is None or (total.code and ids.get(total.code) in visible_ids)]
    largest = max([abs(total.amount_nano) for total in shown] + [1])
    return [
        OwnerRow(
            total=total,
            owner_id=ids.get(total.code),
            bar_pct=max(0, total.amount_nano) * 100 // largest,
        )
        for total in shown
    ]


# --- lines --------------------------------------------------------------------------------------


@tenant_scoped(via="run")
def owner_lines(*, run: AllocationRun, owner: BudgetOwner | None) -> QuerySet[AllocationLine]:
    """An owner's lines of a run, or the Unallocated lines with ``owner=None``, in the engine's order."""
    lines = AllocationLine.objects.filter(run=run)
    lines = lines.filter(owner__isnull=True) if owner is None else lines.filter(owner=owner)
    return lines.order_by("position")


@tenant_scoped(via="run")
def footed_line_amounts(*, run: AllocationRun, owner: BudgetOwner | None, total: Decimal) -> dict[int, Decimal]:
    """Shown amounts of every line of an owner (or of Unallocated, ``owner=None``) by id, adding up to
    ``total`` (the owner's shown row)."""
    lines = owner_lines(run=run, owner=owner)
    return footed_minor_units(dict(lines.values_list("id", "amount_nano")), run.currency, total=total)


# --- reading results ----------------------------------------------------------------------------


@tenant_scoped
def current_run(*, organization: Organization, period: date) -> AllocationRun | None:
    """The run a period's figures come from: its draft when there is one, else its latest issued run."""
    runs = AllocationRun.objects.filter(organization=organization, period=period).select_related(
        "rule_set_version__rule_set"
    )
    return runs.filter(status=AllocationRun.Status.DRAFT).first() or runs.order_by("-created_at", "-id").first()


@tenant_scoped(via="run")
def run_owner_totals(*, run: AllocationRun) -> list[OwnerTotal]:
    lines = AllocationLine.objects.filter(run=run).values("owner_code").annotate(total=Sum("amount_nano"))
    totals = {row["owner_code"] or UNALLOCATED_KEY: row["total"] for row in lines}
    names = dict(BudgetOwner.objects.filter(organization_id=run.organization_id).values_list("code", "name"))
    return footed_owner_totals(totals_nano=totals, currency=run.currency, names=names)


@tenant_scoped(via="run")
def run_summary_json(*, run: AllocationRun) -> dict:
    """A stored run's summary, in the shape ``allocate --json`` prints and the API's summary uses (a preview's
    is ``totals.preview_summary_json``)."""
    return summary_json(
        period=run.period,
        totals=run_owner_totals(run=run),
        pool_nano=run.pool_total_nano,
        currency=run.currency,
        version_number=run.rule_set_version.number,
        lines=run.line_count,
        digest=run.inputs_hash,
    )


# --- exchange rates -------------------------------------------------------------------------------

POLICY_TEXT = {
    "usage_day": "the {rates} of the usage days",
    "month_average": "the mean of the {rates} over the period",
    "period_end": "the {rate} of the period's last day",
}
SOURCE_RATES = {"ecb": ("ECB reference rates", "ECB reference rate"), "own": ("organisation's own rates", "own rate")}


def _rate_text(value: Fraction) -> str:
    """A rate for people: rounded half-even to six decimals, no trailing zeros (the exact fraction is on the
    record): 1.1298, 0.892733."""
    return exact_text(Decimal(round(value * 10**6)).scaleb(-6), 0)


@dataclass(frozen=True)
class CurrencyConversion:
    """Everything one currency contributed to a run, converted: the amounts, the rates, the effective rate."""

    from_currency: str
    to_currency: str
    amount_nano: int
    converted_nano: int
    rates: int  # how many rates (days or charge periods) were used
    day_rates: int
    period_rates: int
    first_rate: Fraction  # units of from_currency per unit of to_currency, first by day
    last_rate: Fraction
    first_day: date | None
    last_day: date | None
    source: str

    @property
    def effective(self) -> Fraction | None:
        """Units of to_currency per unit of from_currency over everything converted."""
        return Fraction(self.converted_nano, self.amount_nano) if self.amount_nano else None

    @property
    def text(self) -> str:
        span = _rate_text(self.first_rate)
        if self.last_rate != self.first_rate:
            span = f"{span}–{_rate_text(self.last_rate)}"
        rates = f"{self.rates} rate{'s' if self.rates != 1 else ''}"
        if self.first_day and self.last_day and self.first_day != self.last_day:
            rates += f" from {self.first_day.isoformat()} to {self.last_day.isoformat()}"
        if self.period_rates:
            rates += f", {self.period_rates} of them a mean over an invoice line's charge period"
        effective = self.effective
        effective_text = (
            f"; effective {_rate_text(effective)} {self.to_currency} per {self.from_currency}" if effective else ""
        )
        return (
            f"{rates}, {span} {self.from_currency} per {self.to_currency}{effective_text}: "
            f"{money_text(self.amount_nano, self.from_currency)} {self.from_currency} → "
            f"{money_text(self.converted_nano, self.to_currency)} {self.to_currency}"
        )


@dataclass(frozen=True)
class RunConversion:
    """The exchange rates an allocation run converted with (its ``fx.Conversion``), summed per currency."""

    conversion: object  # fx.Conversion
    currencies: list[CurrencyConversion]

    @property
    def source_text(self) -> str:
        """ "the ECB reference rates of the usage days", "the mean of the organisation's own rates over the period"."""
        rates, rate = SOURCE_RATES.get(self.conversion.fx_source, SOURCE_RATES["ecb"])
        return POLICY_TEXT.get(self.conversion.policy, "{rates}").format(rates=rates, rate=rate)

    @property
    def text(self) -> str:
        """ "Converted from USD at the ECB reference rates of the usage days (22 rates, …): 102.47 USD → 91.47 EUR"."""
        return " ".join(f"Converted from {c.from_currency} at {self.source_text} ({c.text})." for c in self.currencies)


def _run_conversion(conversion: Conversion, currency_lines) -> RunConversion:
    currencies = []
    for of in currency_lines:
        by_day = sorted(of.lines, key=lambda line: (line.for_day or line.period_start, line.period_end or date.min))
        currencies.append(
            CurrencyConversion(
                from_currency=of.from_currency,
                to_currency=of.to_currency,
                amount_nano=of.amount_nano,
                converted_nano=of.converted_nano,
                rates=len(of.lines),
                day_rates=sum(1 for line in of.lines if line.for_day),
                period_rates=sum(1 for line in of.lines if not line.for_day),
                first_rate=1 / by_day[0].rate,
                last_rate=1 / by_day[-1].rate,
                first_day=of.first_day,
                last_day=of.last_day,
                source=of.lines[0].source,
            )
        )
    return RunConversion(conversion=conversion, currencies=currencies)


@tenant_scoped(via="run")
def run_conversion(*, run: AllocationRun) -> RunConversion | None:
    """What the run converted into its currency and at which rates; None when everything was in it."""
    if run.conversion_id is None:
        return None
    conversion = Conversion.objects.get(organization_id=run.organization_id, pk=run.conversion_id)
    return _run_conversion(conversion, conversion_currencies(conversion=conversion))


@tenant_scoped
def runs_conversions(*, organization: Organization, run_ids) -> dict[int, RunConversion]:
    """``run_conversion`` of several runs in three queries whatever their number: {run id: RunConversion}, for
    the runs that converted anything (a run that did not is absent)."""
    runs = dict(
        AllocationRun.objects.filter(
            organization=organization, pk__in=set(run_ids), conversion__isnull=False
        ).values_list("pk", "conversion_id")
    )
    if not runs:
        return {}
    conversions = Conversion.objects.filter(organization=organization, pk__in=set(runs.values())).in_bulk()
    lines = conversions_currencies(organization=organization, conversion_ids=conversions)
    return {
        run_id: _run_conversion(conversions[conversion_id], lines.get(conversion_id, []))
        for run_id, conversion_id in runs.items()
    }
