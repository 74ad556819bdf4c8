"""Reads over allocation runs for the pages and the API: which months can be shown, a run's owner rows
(footed, with bar widths, restricted to what a member may see), an owner's lines footed to the owner's
shown total, and the usage-explorer query that drills a line down to its requests.

Every function runs inside the caller's organisation scope (the portal middleware or the API base view).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.db.models.functions import TruncMonth
from django.http import QueryDict

from apps.core.calendar import month_before, period_bounds, period_of_day
from apps.core.money import footed_minor_units, nano_to_decimal, quantize_money
from apps.invoices.models import ProviderInvoice
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.tenancy.models import Organization
from apps.usage.models import DailyUsage

from .models import AllocationLine, AllocationRun, RuleSetVersion
from .runs import OwnerTotal, run_owner_totals

# The period picker looks this far back from the newest month with data.
PICKER_MONTHS = 24


# --- periods ------------------------------------------------------------------------------------


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


def billing_period(*, organization: Organization, period: date) -> BillingPeriod | None:
    return BillingPeriod.objects.filter(organization=organization, period=period).first()


def preview_versions(*, organization: Organization) -> QuerySet[RuleSetVersion]:
    """Every version of every rule set, drafts included, primary rule set first and newest first."""
    return (
        RuleSetVersion.objects.filter(organization=organization)
        .select_related("rule_set")
        .order_by("-rule_set__is_primary", "rule_set__name", "-number")
    )


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


def owner_rows(*, run: AllocationRun, visible_ids: set[int] | None) -> list[OwnerRow]:
    """The run's per-owner totals (footed over every owner, so the full table adds up to the pool) as
    table rows with bar widths; a member who sees only some owners gets only those, and no Unallocated."""
    totals = run_owner_totals(run)
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


def owner_lines(*, run: AllocationRun, owner: BudgetOwner | None) -> QuerySet[AllocationLine]:
    """An owner's lines of a run, or the Unallocated lines with ``owner=None``, in the engine's order."""
    lines = AllocationLine.objects.filter(run=run)
    lines = lines.filter(owner__isnull=True) if owner is None else lines.filter(owner=owner)
    return lines.order_by("position")


def footed_line_amounts(*, lines: QuerySet[AllocationLine], total: Decimal, currency: str) -> dict[int, Decimal]:
    """Shown amounts of every line in ``lines`` by id, adding up to ``total`` (the owner's shown row)."""
    return footed_minor_units(dict(lines.values_list("id", "amount_nano")), currency, total=total)


def exact_amount(nano: int) -> str:
    """All nine decimals, e.g. 1_973_684_211 -> "1.973684211"."""
    return f"{nano_to_decimal(int(nano)):f}"


def line_amount(line: AllocationLine, currency: str) -> Decimal:
    return quantize_money(nano_to_decimal(line.amount_nano), currency)


def rule_usage_filters(version: RuleSetVersion) -> dict[str, dict[str, str]]:
    """Usage-explorer filters implied by each rule's own conditions, by the rule id the run stores ("r1",
    "r2", … in document order, as ``runs.engine_rules`` numbers them). Only what the explorer can express
    is kept (a tag that equals a value or is missing, the service tier, retries), so a drill-down may show
    a little more than the line, never less."""
    filters: dict[str, dict[str, str]] = {}
    for index, rule in enumerate(version.document.get("rules", [])):
        query: dict[str, str] = {}
        for condition in rule.get("conditions", []):
            field, op, value = condition.get("field", ""), condition.get("op"), condition.get("value")
            if field.startswith("tag:") and op == "equals":
                query[f"tag_{field[4:]}"] = str(value)
            elif field.startswith("tag:") and op == "missing":
                query[f"tag_{field[4:]}"] = "(missing)"
            elif field == "service_tier" and op == "equals":
                query["service_tier"] = str(value)
            elif field == "is_retry" and op == "equals":
                query["retry"] = "yes" if str(value).lower() == "true" else "no"
        filters[f"r{index + 1}"] = query
    return filters


def drilldown_query(line: AllocationLine, *, period: date, rule_filters: dict[str, dict[str, str]]) -> str:
    """The usage-explorer query that shows the requests behind a line: its month, provider, model and
    cost source (a true-up line has none: it is the invoice's difference, not usage), its feature, the tag
    value a tag-map line was booked by, and what the line's rule itself selects (a pool's conditions)."""
    query = QueryDict(mutable=True)
    query["month"] = f"{period:%Y-%m}"
    query["provider"] = line.provider
    if line.model:
        query["model"] = line.model
    if line.cost_source != "true_up":
        query["cost_source"] = line.cost_source
    extra = dict(rule_filters.get(line.rule_id, {}))
    if line.feature:
        extra["tag_feature"] = line.feature
    extra.update({f"tag_{dimension}": value for dimension, value in (line.match_tags or {}).items()})
    for key in sorted(extra):
        query[key] = extra[key]
    return query.urlencode()
