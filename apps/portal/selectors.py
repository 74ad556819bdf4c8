"""Reads the top floor assembles from the apps below it: the home page's spend at a glance (what did we spend,
compared with what), the budget owner's statement panel."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse

from apps.core.calendar import month_after, month_before
from apps.core.money import decimal_to_nano
from apps.disputes.selectors import open_disputes_for_owner_panel
from apps.owners.models import Budget
from apps.owners.selectors import visible_owner_ids
from apps.showback.models import ForecastSnapshot
from apps.showback.spend import SpendResult, spend_rows
from apps.statements.selectors import OwnerPanel, owner_statements_panel
from apps.tenancy.models import Membership, Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.selectors import latest_usage_day, visible_team_values

MOVERS = 5  # teams and models with the largest change, each


@tenant_scoped(via="membership")
def owner_home_panel(*, membership: Membership) -> OwnerPanel | None:
    """For budget owners: the latest period with statements, each owner's charge against its budget, and
    the open disputes on their statements. None for other roles (finance has the queue)."""
    panel = owner_statements_panel(membership=membership)
    if panel is not None:
        panel.open_disputes = open_disputes_for_owner_panel(membership=membership)
    return panel


# --- spend at a glance ---------------------------------------------------------------------------------


def _pct(now: int, before: int) -> Decimal | None:
    """The change from ``before`` to ``now`` in percent, one decimal (None when there was nothing before)."""
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(before)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Span:
    """Spend over a range of days, with the explorer link that lists it."""

    label: str
    first: date
    last: date
    amount_nano: int
    requests: int
    link: str
    unconverted: dict[str, int] = field(default_factory=dict)  # per currency, left out for want of a rate


@dataclass(frozen=True)
class Comparison:
    label: str
    amount_nano: int | None  # None: nothing to compare with (no budget, no forecast yet)
    against_nano: int  # the month to date (or the month) it is compared with
    note: str = ""
    link: str = ""

    @property
    def used_pct(self) -> Decimal | None:
        """The month to date as a share of this figure."""
        if not self.amount_nano:
            return None
        return (Decimal(self.against_nano) * 100 / Decimal(self.amount_nano)).quantize(Decimal("0.1"))

    @property
    def over(self) -> bool:
        return self.amount_nano is not None and self.against_nano > self.amount_nano

    @property
    def bar_pct(self) -> Decimal:
        """The bar's length (the share, at most 100)."""
        return min(self.used_pct or Decimal(0), Decimal(100))


@dataclass(frozen=True)
class Mover:
    kind: str  # team | model
    label: str
    now_nano: int
    before_nano: int
    link: str

    @property
    def change_nano(self) -> int:
        return self.now_nano - self.before_nano

    @property
    def change_pct(self) -> Decimal | None:
        return _pct(self.now_nano, self.before_nano)


@dataclass
class HomeSpend:
    """The home's first two questions for a member: what did we spend (this month to date, last month, the same
    month last year), compared with what (the month's budget, a forecast, last month to the same day); and the
    teams and models that moved most against last month to the same day. Amounts in nano-units of ``currency``
    (the organisation's base currency), the cube's price-book estimate (``showback.spend``)."""

    currency: str
    today: date
    scope: str  # "the organisation" / "your cost centres"
    has_usage: bool
    month_to_date: Span | None = None
    last_month_to_date: Span | None = None
    last_month: Span | None = None
    last_year: Span | None = None
    comparisons: list[Comparison] = field(default_factory=list)
    movers: dict[str, list[Mover]] = field(default_factory=dict)
    budgets_elsewhere: list[tuple[Decimal, str]] = field(default_factory=list)  # budgets in other currencies

    @property
    def change_pct(self) -> Decimal | None:
        """This month to date against last month to the same day."""
        if self.month_to_date is None or self.last_month_to_date is None:
            return None
        return _pct(self.month_to_date.amount_nano, self.last_month_to_date.amount_nano)


def _explorer(organization: Organization, first: date, last: date, **params) -> str:
    query = {"date_from": first.isoformat(), "date_to": last.isoformat(), **params}
    return reverse("usage:explorer", kwargs={"org_slug": organization.slug}) + "?" + urlencode(query)


def _movers(
    organization: Organization, kind: str, now: SpendResult, before: SpendResult, first: date, last: date
) -> list[Mover]:
    keys = ("team",) if kind == "team" else ("provider", "model")
    amounts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for index, result in enumerate((now, before)):
        for row in result.rows:
            amounts[tuple(row[k] for k in keys)][index] += row["amount_nano"]
    movers = []
    for key, (now_nano, before_nano) in amounts.items():
        if now_nano == before_nano:
            continue
        if kind == "team":
            team = key[0]
            label = team if team is not None else "(no team)"
            link = _explorer(
                organization, first, last, group_by="model", tag_team=team if team is not None else "(missing)"
            )
        else:
            label = f"{key[0]} {key[1]}"
            link = _explorer(organization, first, last, group_by="team", provider=key[0], model=key[1])
        movers.append(Mover(kind=kind, label=label, now_nano=now_nano, before_nano=before_nano, link=link))
    movers.sort(key=lambda m: (-abs(m.change_nano), m.label))
    return movers[:MOVERS]


def _budget_nano(organization: Organization, owner_ids: set[int] | None, month: date) -> tuple[int | None, list]:
    """The month's budgets of the cost centres (None: all) in the base currency, in nano; other currencies apart
    (named, never converted: a budget is set in a currency on purpose)."""
    budgets = Budget.objects.filter(organization=organization, period=month)
    if owner_ids is not None:
        budgets = budgets.filter(owner_id__in=owner_ids)
    totals = dict(budgets.values("currency").annotate(total=Sum("amount")).values_list("currency", "total").order_by())
    base = totals.pop(organization.base_currency, None)
    return (None if base is None else decimal_to_nano(base)), sorted((amount, cur) for cur, amount in totals.items())


def _forecast_for_month(*, organization: Organization, month: date, owner_ids: set[int] | None) -> int | None:
    """The month's forecast in nano, in the base currency, from the snapshot taken when the month opened
    (``showback.ForecastSnapshot``, one query): the organisation's own for finance, the sum of the visible
    cost centres' for a budget owner. None when the month has no snapshot (yet)."""
    snapshots = ForecastSnapshot.objects.filter(
        organization=organization, period=month, currency=organization.base_currency
    )
    if owner_ids is None:
        amounts = list(snapshots.filter(owner__isnull=True).values_list("amount_nano", flat=True))
    else:
        amounts = list(snapshots.filter(owner_id__in=sorted(owner_ids)).values_list("amount_nano", flat=True))
    return sum(amounts) if amounts else None


@tenant_scoped(via="membership")
def home_spend(*, membership: Membership, today: date) -> HomeSpend:
    organization = membership.organization
    owner_ids = visible_owner_ids(membership=membership)
    team_values = visible_team_values(organization=organization, membership=membership)
    figures = HomeSpend(
        currency=organization.base_currency,
        today=today,
        scope="the organisation" if owner_ids is None else "your cost centres",
        has_usage=latest_usage_day(organization=organization) is not None,
    )
    if not figures.has_usage:
        return figures

    month = today.replace(day=1)
    previous = month_before(month)
    previous_end = month - timedelta(days=1)
    # Last month to the same day of the month (the same number of days, or the whole month if it is shorter).
    previous_same_day = min(previous + (today - month), previous_end)
    year_ago = month.replace(year=month.year - 1)
    year_ago_end = month_after(year_ago) - timedelta(days=1)

    def read(first: date, last: date, by: tuple[str, ...] = (), grain: str | None = None) -> SpendResult:
        return spend_rows(
            organization=organization, first=first, last=last, by=by, grain=grain, team_values=team_values
        )

    def span(label: str, first: date, last: date, result: SpendResult) -> Span:
        return Span(
            label=label,
            first=first,
            last=last,
            amount_nano=result.total_nano,
            requests=result.total_requests,
            link=_explorer(organization, first, last),
            unconverted=result.unconverted,
        )

    # This month and last month to the same day by team and model (the totals and the movers); last month and
    # the same month a year ago whole (the monthly rollup answers them).
    by = ("team", "provider", "model")
    now_rows = read(month, today, by)
    before_rows = read(previous, previous_same_day, by)
    whole_last = read(previous, previous_end)
    whole_year_ago = read(year_ago, year_ago_end)
    figures.month_to_date = span(f"{month:%B} to date", month, today, now_rows)
    figures.last_month_to_date = span(f"{previous:%B} to the same day", previous, previous_same_day, before_rows)
    figures.last_month = span(f"{previous:%B %Y}", previous, previous_end, whole_last)
    figures.last_year = span(f"{year_ago:%B %Y}", year_ago, year_ago_end, whole_year_ago)
    figures.movers = {
        "team": _movers(organization, "team", now_rows, before_rows, month, today),
        "model": _movers(organization, "model", now_rows, before_rows, month, today),
    }

    mtd = figures.month_to_date.amount_nano
    budget, figures.budgets_elsewhere = _budget_nano(organization, owner_ids, month)
    figures.comparisons = [
        Comparison(
            label=f"Budget for {month:%B}",
            amount_nano=budget,
            against_nano=mtd,
            note="" if budget is not None else "No budget is set for this month.",
            link=reverse("owners:list", kwargs={"org_slug": organization.slug}),
        ),
        Comparison(
            label=f"Forecast for {month:%B}",
            amount_nano=_forecast_for_month(organization=organization, month=month, owner_ids=owner_ids),
            against_nano=mtd,
            note="No forecast for this month yet.",
        ),
        Comparison(
            label=f"{previous:%B} (whole month)",
            amount_nano=figures.last_month.amount_nano,
            against_nano=mtd,
            link=figures.last_month.link,
        ),
    ]
    return figures
