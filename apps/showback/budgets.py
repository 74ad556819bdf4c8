"""Budget against actual per cost centre, rolled up the hierarchy (selectors).

For one calendar month and the calendar year to date (the project keeps no fiscal year: ``core.calendar``'s
start day moves billing periods, not the year), per cost centre:

- **budget**: ``owners.Budget`` in the organisation's base currency. A budget in another currency (only older
  data can hold one: new ones are refused) is named on the page and left out of every sum, never converted.
- **actual**: the showback spend of the teams that map to the cost centre (``showback.spend.owner_month_spend``:
  the cube's price-book estimate in the base currency).
- **rolled up**: a cost centre's figures are its own plus those of everything below it, so a division's row
  is the sum of its departments and teams. Its thresholds watch these rolled-up figures.
- **variance**: actual − budget, in money and as a percentage of the budget (positive: over budget).
- **run-rate and forecast**: for the month in progress the run-rate is the actual divided by the days the cube
  has data for (its latest day this month is "today"), and the forecast to month end is that run-rate over the
  whole month: actual × days in month / days elapsed, the linear extrapolation budget tools use. A month that
  has ended is its own forecast; a month with no data yet has none.

Money stays in integers of nano-units; a percentage is a Decimal, rounded once (half-to-even, 2 places).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Max

from apps.core.money import decimal_to_nano
from apps.owners.models import Budget, BudgetOwner, BudgetThreshold
from apps.owners.selectors import OwnerTreeRow, owner_tree
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import DailyUsage, MonthlyUsage

from .models import Alert
from .spend import spend_rows, team_owners

# A forecast threshold waits for this many days of the month: one or two days of spend carried over a whole
# month say little (Oracle Cloud's budgets document the same rule for their linear forecast).
MIN_FORECAST_DAYS = 3

ALERT_KIND = "budget"
PCT_PLACES = Decimal("0.01")


def threshold_key(threshold_id: int) -> str:
    """The alert key of a threshold: one alert per threshold and month."""
    return f"threshold:{threshold_id}"


def ratio_pct(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage, rounded once to 2 places (half-to-even); None without a base."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(PCT_PLACES, rounding=ROUND_HALF_EVEN)


def _div_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer half-to-even, in integers (no float, no precision limit)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


@dataclass(frozen=True)
class Figures:
    """Budget and actual of one cost centre over some months, in nano-units of the base currency."""

    budget_nano: int | None  # None: no budget in the base currency for these months
    actual_nano: int

    @property
    def variance_nano(self) -> int | None:
        return None if self.budget_nano is None else self.actual_nano - self.budget_nano

    @property
    def variance_pct(self) -> Decimal | None:
        return None if self.budget_nano is None else ratio_pct(self.variance_nano, self.budget_nano)

    @property
    def used_pct(self) -> Decimal | None:
        return None if self.budget_nano is None else ratio_pct(self.actual_nano, self.budget_nano)

    @property
    def over(self) -> bool:
        return self.budget_nano is not None and self.actual_nano > self.budget_nano

    def __add__(self, other: "Figures") -> "Figures":
        if self.budget_nano is None and other.budget_nano is None:
            budget = None
        else:
            budget = (self.budget_nano or 0) + (other.budget_nano or 0)
        return Figures(budget_nano=budget, actual_nano=self.actual_nano + other.actual_nano)


NO_FIGURES = Figures(budget_nano=None, actual_nano=0)


@dataclass(frozen=True)
class ThresholdState:
    threshold: BudgetThreshold
    alert: Alert | None  # the alert it raised for the month: ALARM; none: OK

    @property
    def state(self) -> str:
        return "ALARM" if self.alert is not None else "OK"


@dataclass(frozen=True)
class Clock:
    """Where the month stands: the days the forecast carries over and what "today" is for it."""

    month: date
    today: date
    days_in_month: int
    days_elapsed: int  # days with data counted in the month (the cube's latest day in a month in progress)
    data_through: date | None
    ended: bool  # the month is over: its actual is its forecast

    @property
    def in_progress(self) -> bool:
        return not self.ended and self.month <= self.today

    @property
    def forecast_ready(self) -> bool:
        return self.ended or self.days_elapsed >= MIN_FORECAST_DAYS

    def forecast(self, actual_nano: int) -> int | None:
        if self.ended:
            return actual_nano
        if not self.days_elapsed:
            return None
        return _div_half_even(actual_nano * self.days_in_month, self.days_elapsed)

    def run_rate(self, actual_nano: int) -> int | None:
        """Spend per day so far."""
        if not self.days_elapsed:
            return None
        return _div_half_even(actual_nano, self.days_elapsed)


@dataclass
class BudgetRow:
    owner: BudgetOwner
    depth: int
    month: Figures  # rolled up: the cost centre and everything below it
    own: Figures  # the cost centre's own budget and its own teams' spend
    ytd: Figures  # rolled up, January to the month
    forecast_nano: int | None
    run_rate_nano: int | None
    thresholds: list[ThresholdState] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)  # the team tag values that map to this cost centre itself

    @property
    def bar_pct(self) -> Decimal:
        """The used share for the bar, capped at 100."""
        return min(self.month.used_pct or Decimal(0), Decimal(100))

    @property
    def indent(self) -> int:
        return min(self.depth, OwnerTreeRow.MAX_INDENT)

    @property
    def forecast_pct(self) -> Decimal | None:
        if self.forecast_nano is None or self.month.budget_nano is None:
            return None
        return ratio_pct(self.forecast_nano, self.month.budget_nano)

    @property
    def alarms(self) -> int:
        return sum(1 for state in self.thresholds if state.alert is not None)


@dataclass
class BudgetReport:
    month: date
    currency: str
    clock: Clock
    ytd_first: date
    rows: list[BudgetRow]
    total: Figures  # the visible roots' rolled-up figures added
    ytd_total: Figures
    forecast_total: int | None
    unallocated: Figures | None  # spend no cost centre owns (the organisation-wide view only)
    ytd_unallocated: Figures | None
    other_currency_budgets: list[Budget]
    unconverted: dict[str, int]  # spend in other currencies with no rate loaded: left out, never guessed

    @property
    def unallocated_run_rate(self) -> int | None:
        return None if self.unallocated is None else self.clock.run_rate(self.unallocated.actual_nano)

    @property
    def unallocated_forecast(self) -> int | None:
        return None if self.unallocated is None else self.clock.forecast(self.unallocated.actual_nano)


def month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def month_clock(*, organization: Organization, month: date, today: date) -> Clock:
    """The month's clock: ended months count every day; the month in progress counts up to the cube's latest
    day in it (no later than today); a month still ahead counts none."""
    last = month_end(month)
    days = last.day
    if last < today:
        return Clock(month, today, days, days, last, ended=True)
    if month > today:
        return Clock(month, today, days, 0, None, ended=False)
    latest = DailyUsage.objects.filter(organization=organization, day__gte=month, day__lte=today).aggregate(
        latest=Max("day")
    )["latest"]
    return Clock(month, today, days, latest.day if latest else 0, latest, ended=False)


def _children(owners: list[BudgetOwner]) -> dict[int | None, list[int]]:
    known = {owner.pk for owner in owners}
    children: dict[int | None, list[int]] = {}
    for owner in owners:
        parent = owner.parent_id if owner.parent_id in known else None
        children.setdefault(parent, []).append(owner.pk)
    return children


def _rolled_up(own: dict[int, Figures], children: dict[int | None, list[int]]) -> dict[int, Figures]:
    """Each cost centre's own figures plus its descendants', bottom-up (iterative: no recursion limit)."""
    rolled: dict[int, Figures] = {}
    order: list[int] = []
    stack = list(children.get(None, []))
    while stack:
        owner_id = stack.pop()
        order.append(owner_id)
        stack.extend(children.get(owner_id, []))
    for owner_id in reversed(order):  # children come after their parent in ``order``
        total = own.get(owner_id, NO_FIGURES)
        for child in children.get(owner_id, []):
            total = total + rolled[child]
        rolled[owner_id] = total
    return rolled


def _own_figures(budgets: dict[int, int], spend: dict[int | None, int], owner_ids) -> dict[int, Figures]:
    return {
        owner_id: Figures(budget_nano=budgets.get(owner_id), actual_nano=spend.get(owner_id, 0))
        for owner_id in owner_ids
    }


@tenant_scoped
def budget_report(
    *, organization: Organization, month: date, today: date, visible_ids: set[int] | None
) -> BudgetReport:
    """Budget against actual for ``month`` (its first day) and the year to it, per visible cost centre in
    tree order; ``visible_ids`` None is the whole organisation (``owners.selectors.visible_owner_ids``).
    The figures are rolled up over the whole tree, so a budget owner's subtree shows what finance sees."""
    currency = organization.base_currency
    ytd_first = date(month.year, 1, 1)
    clock = month_clock(organization=organization, month=month, today=today)

    all_rows = owner_tree(organization=organization, visible_ids=None)
    owners = [row.owner for row in all_rows]
    children = _children(owners)

    month_budgets: dict[int, int] = {}
    ytd_budgets: dict[int, int] = {}
    other_currency: list[Budget] = []
    budgets = Budget.objects.filter(organization=organization, period__gte=ytd_first, period__lte=month)
    for budget in budgets.select_related("owner").order_by("owner__code", "period"):
        if budget.currency != currency:
            if visible_ids is None or budget.owner_id in visible_ids:
                other_currency.append(budget)
            continue
        nano = decimal_to_nano(budget.amount)
        ytd_budgets[budget.owner_id] = ytd_budgets.get(budget.owner_id, 0) + nano
        if budget.period == month:
            month_budgets[budget.owner_id] = nano

    spend = spend_rows(organization=organization, first=ytd_first, last=month_end(month), by=("owner",), grain="month")
    month_spend: dict[int | None, int] = {}
    ytd_spend: dict[int | None, int] = {}
    for spend_row in spend.rows:
        owner_id = spend_row["owner"]
        ytd_spend[owner_id] = ytd_spend.get(owner_id, 0) + spend_row["amount_nano"]
        if spend_row["period"] == month:
            month_spend[owner_id] = month_spend.get(owner_id, 0) + spend_row["amount_nano"]

    owner_ids = [owner.pk for owner in owners]
    own_month = _own_figures(month_budgets, month_spend, owner_ids)
    rolled_month = _rolled_up(own_month, children)
    rolled_ytd = _rolled_up(_own_figures(ytd_budgets, ytd_spend, owner_ids), children)

    teams_of: dict[int, list[str]] = {}
    for team, owner_id in sorted(team_owners(organization=organization).items()):
        teams_of.setdefault(owner_id, []).append(team)
    states = _threshold_states(organization=organization, month=month, visible_ids=visible_ids)
    visible_rows = all_rows if visible_ids is None else owner_tree(organization=organization, visible_ids=visible_ids)
    rows = [
        BudgetRow(
            owner=row.owner,
            depth=row.depth,
            month=rolled_month[row.owner.pk],
            own=own_month[row.owner.pk],
            ytd=rolled_ytd[row.owner.pk],
            forecast_nano=clock.forecast(rolled_month[row.owner.pk].actual_nano),
            run_rate_nano=clock.run_rate(rolled_month[row.owner.pk].actual_nano),
            thresholds=states.get(row.owner.pk, []),
            teams=teams_of.get(row.owner.pk, []),
        )
        for row in visible_rows
    ]
    roots = [row for row in rows if row.depth == 0]
    total = sum((row.month for row in roots), NO_FIGURES)
    ytd_total = sum((row.ytd for row in roots), NO_FIGURES)
    unallocated = ytd_unallocated = None
    if visible_ids is None:
        unallocated = Figures(budget_nano=None, actual_nano=month_spend.get(None, 0))
        ytd_unallocated = Figures(budget_nano=None, actual_nano=ytd_spend.get(None, 0))
        total = total + unallocated
        ytd_total = ytd_total + ytd_unallocated
    return BudgetReport(
        month=month,
        currency=currency,
        clock=clock,
        ytd_first=ytd_first,
        rows=rows,
        total=total,
        ytd_total=ytd_total,
        forecast_total=clock.forecast(total.actual_nano),
        unallocated=unallocated,
        ytd_unallocated=ytd_unallocated,
        other_currency_budgets=other_currency,
        unconverted=spend.unconverted,
    )


def _threshold_states(
    *, organization: Organization, month: date, visible_ids: set[int] | None
) -> dict[int, list[ThresholdState]]:
    """Per cost centre: its active thresholds, and any inactive one that fired this month, each OK or ALARM."""
    thresholds = BudgetThreshold.objects.filter(organization=organization).order_by("basis", "pct")
    if visible_ids is not None:
        thresholds = thresholds.filter(owner_id__in=visible_ids)
    thresholds = list(thresholds)
    alerts = {
        alert.key: alert
        for alert in Alert.objects.filter(
            organization=organization,
            kind=ALERT_KIND,
            period=month,
            key__in=[threshold_key(threshold.pk) for threshold in thresholds],
        )
    }
    states: dict[int, list[ThresholdState]] = {}
    for threshold in thresholds:
        alert = alerts.get(threshold_key(threshold.pk))
        if threshold.is_active or alert is not None:
            states.setdefault(threshold.owner_id, []).append(ThresholdState(threshold, alert))
    return states


def threshold_crossed(*, threshold: BudgetThreshold, row: BudgetRow, clock: Clock) -> bool:
    """Whether the row's actual (or forecast) spend reached ``pct`` % of its rolled-up budget, compared in
    integers: value × 100 ≥ pct × budget. No budget, no alert; a forecast waits for ``MIN_FORECAST_DAYS``."""
    budget = row.month.budget_nano
    if budget is None:
        return False
    if threshold.basis == BudgetThreshold.Basis.FORECAST:
        if not clock.forecast_ready or row.forecast_nano is None:
            return False
        value = row.forecast_nano
    else:
        value = row.month.actual_nano
    hundredths = int(threshold.pct * 100)  # pct has 2 decimal places: exact
    return value > 0 and value * 100 * 100 >= hundredths * budget


@tenant_scoped
def budget_months(*, organization: Organization, around: date, today: date) -> list[date]:
    """The months the picker offers, newest first: every month with a budget or with spend in the cube, the
    current month and the one shown."""
    months = set(Budget.objects.filter(organization=organization).values_list("period", flat=True).distinct())
    months |= set(MonthlyUsage.objects.filter(organization=organization).values_list("month", flat=True).distinct())
    months |= {date(today.year, today.month, 1), around}
    return sorted(months, reverse=True)
