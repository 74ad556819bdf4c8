"""The one reader of spend for showback: the cube's price-book estimate, in the organisation's base
currency, grouped by whatever a page breaks it down by.

Every dashboard, budget and forecast reads spend here, never from the raw usage table: whole calendar
months come from the monthly rollup (``MonthlyUsage``), other ranges from the daily cube (``DailyUsage``).
Cells in another currency are read by day and converted once each with the organisation's exchange-rate
policy and source (``apps.fx``); a cell whose rate is not loaded is not converted and not guessed: its
amount is reported in ``SpendResult.unconverted`` (per currency) and left out of the rows and totals, so a
page can say how much it could not show.

Breakdown names (``by``): the tag dimensions kept in the cube's tag sets (``team``, ``feature``,
``environment``, or any other cube-grain dimension key), the cube columns ``provider``, ``model``,
``service_tier``, and ``owner``: the cost centre the team tag belongs to (``taxonomy.TagValue.owner``;
None when the request had no team tag or its team has no cost centre: unallocated spend).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth

from apps.fx.convert import ConvertItem, RateGap
from apps.fx.selectors import convert_items
from apps.taxonomy.models import TagSet, TagValue
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import COST_COLUMNS, DailyDetailUsage, DailyUsage, MonthlyDetailUsage, MonthlyUsage
from apps.usage.rollups import month_span

COLUMNS = ("provider", "model", "service_tier")
# The amounts a caller may sum: the estimate, or one priced cost source's column (apps.usage.models.COST_COLUMNS).
AMOUNT_MEASURES = ("estimated_nano", *(column for column, _quantity in COST_COLUMNS.values()))
GRAINS = (None, "day", "month")


@dataclass
class SpendResult:
    """``rows``: one dict per group: the ``by`` keys (and ``period``: the day or the month's first day, with
    a grain), ``amount_nano`` (base currency), ``requests`` and ``records``. ``unconverted``: amounts per
    currency left out for want of a rate; ``gaps``: the rate gaps that caused it."""

    currency: str
    rows: list[dict] = field(default_factory=list)
    unconverted: dict[str, int] = field(default_factory=dict)
    gaps: list[RateGap] = field(default_factory=list)

    @property
    def total_nano(self) -> int:
        return sum(row["amount_nano"] for row in self.rows)

    @property
    def total_requests(self) -> int:
        return sum(row["requests"] for row in self.rows)


def _month_after(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@tenant_scoped
def team_owners(*, organization: Organization) -> dict[str, int]:
    """Team tag value → the id of the cost centre it belongs to (values without one are absent)."""
    return dict(
        TagValue.objects.filter(organization=organization, dimension__key="team", owner__isnull=False).values_list(
            "value", "owner_id"
        )
    )


def _tag_condition(filters: dict[str, str], team_values: set[str] | None) -> Q:
    condition = Q()
    for key, value in filters.items():
        if key in COLUMNS or key == "owner":
            continue
        condition &= ~Q(tags__has_key=key) if value == "(missing)" else Q(**{f"tags__{key}": value})
    if team_values is not None:
        condition &= Q(tags__team__in=sorted(team_values))
    return condition


@tenant_scoped
def spend_rows(
    *,
    organization: Organization,
    first: date,
    last: date,
    by: tuple[str, ...] = (),
    grain: str | None = None,
    team_values: set[str] | None = None,
    filters: dict[str, str] | None = None,
    measure: str = "estimated_nano",
) -> SpendResult:
    """Spend from ``first`` to ``last`` (inclusive), grouped by ``by`` (and by day or month with ``grain``),
    for the teams in ``team_values`` (None: every request, tagged or not) and the ``filters`` (a breakdown
    name → value; a tag's value ``(missing)`` selects requests without that tag; ``owner`` → a cost-centre
    id, or ``""`` for unallocated). ``measure``: the cube's amount column summed (the estimate, or one cost
    source's column such as ``cost_input_nano``: that source's spend)."""
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain {grain!r}.")
    if measure not in AMOUNT_MEASURES:
        raise ValueError(f"Unknown measure {measure!r}.")
    filters = dict(filters or {})
    base = organization.base_currency
    owners = team_owners(organization=organization) if ("owner" in by or "owner" in filters) else {}

    condition = Q(organization=organization)
    for name in COLUMNS:
        if filters.get(name):
            condition &= Q(**{name: filters[name]})
    tag_condition = _tag_condition(filters, team_values)
    if "owner" in filters:
        wanted = filters["owner"]
        if wanted in ("", None):
            teams_with_owner = sorted(owners)
            tag_condition &= ~Q(tags__has_key="team") | ~Q(tags__team__in=teams_with_owner)
        else:
            tag_condition &= Q(tags__team__in=sorted(team for team, owner in owners.items() if owner == int(wanted)))
    if tag_condition:
        # Ids, not a subquery: PostgreSQL misjudges how many cube rows a JSON condition on tag sets keeps.
        condition &= Q(tagset_id__in=list(TagSet.objects.filter(tag_condition).values_list("pk", flat=True)))

    months = month_span(first, last) if grain != "day" else None
    columns = [name for name in by if name in COLUMNS]
    if months:
        queryset = MonthlyUsage.objects.filter(condition, month__gte=months[0], month__lte=months[1])
        period_field = "month" if grain == "month" else None
    else:
        queryset = DailyUsage.objects.filter(condition, day__gte=first, day__lte=last)
        if grain == "month":
            queryset = queryset.annotate(period_month=TruncMonth("day"))
            period_field = "period_month"
        else:
            period_field = "day" if grain == "day" else None

    # The tag keys are read in the database (the tag set joined on the organisation and its id), so the cube's
    # cells come back already summed per (keys × period), not one row per tag set.
    tag_names = [name for name in by if name not in COLUMNS and name != "owner"]
    if "owner" in by and "team" not in tag_names:
        tag_names.append("team")  # the owner is the team's cost centre: grouped by team here, mapped below
    tag_alias = {name: f"tag_{index}" for index, name in enumerate(tag_names)}
    tag_values = {alias: KeyTextTransform(name, "tagset__tags") for name, alias in tag_alias.items()}
    keys = [*tag_alias.values(), *columns, "currency", *([period_field] if period_field else [])]
    sums = dict(amount=Sum(measure), requests=Sum("requests"), records=Sum("records"))
    cells = list(queryset.filter(currency=base).annotate(**tag_values).values(*keys).annotate(**sums).order_by())

    # Whether any cell is in another currency, asked of the monthly rollup of the months the range touches
    # (a month's few cells, not its days × cells): a month that has some outside the range only costs the
    # daily read below, which then finds none.
    months_touched = MonthlyUsage.objects.filter(
        condition, month__gte=first.replace(day=1), month__lte=last.replace(day=1)
    )
    if months_touched.exclude(currency=base).exists():
        # Another currency converts by day: read those cells from the daily cube whatever the range (by day,
        # still summed per keys in the database).
        daily = DailyUsage.objects.filter(condition, day__gte=first, day__lte=last).exclude(currency=base)
        day_keys = [*tag_alias.values(), *columns, "currency", "day"]
        foreign_cells = list(daily.annotate(**tag_values).values(*day_keys).annotate(**sums).order_by())
        result_unconverted, gaps = _convert(organization, foreign_cells, grain)
    else:
        foreign_cells, result_unconverted, gaps = [], {}, []

    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell in [*cells, *(c for c in foreign_cells if c.get("amount") is not None)]:
        key = []
        for name in by:
            if name in COLUMNS:
                key.append(cell[name])
            elif name == "owner":
                key.append(owners.get(cell[tag_alias["team"]]))
            else:
                key.append(cell[tag_alias[name]])
        if grain:
            if "period" in cell:
                period = cell["period"]
            elif period_field:
                period = cell[period_field]
            else:  # pragma: no cover - a grain always has a period field
                period = None
            key.append(period.replace(day=1) if grain == "month" else period)
        group = groups[tuple(key)]
        group[0] += cell["amount"] or 0
        group[1] += cell["requests"] or 0
        group[2] += cell["records"] or 0

    names = [*by, *(["period"] if grain else [])]
    rows = [
        {**dict(zip(names, key, strict=True)), "amount_nano": amount, "requests": requests, "records": records}
        for key, (amount, requests, records) in groups.items()
    ]
    rows.sort(key=lambda row: tuple((row[name] is None, str(row[name])) for name in names))
    return SpendResult(currency=base, rows=rows, unconverted=result_unconverted, gaps=gaps)


def _in_gap(gaps: list[RateGap], currency: str, day: date) -> bool:
    return any(gap.currency == currency and gap.first_missing <= day <= gap.last_missing for gap in gaps)


def _convert(organization: Organization, cells: list[dict], grain: str | None) -> tuple[dict[str, int], list]:
    """Convert the day cells of other currencies in place (``amount`` becomes base currency, ``period`` the
    day or month), month by month (a month-average or period-end policy needs the month); cells without a
    rate get ``amount`` None and are counted in the returned unconverted sums."""
    unconverted: dict[str, int] = defaultdict(int)
    gaps: list[RateGap] = []
    by_month: dict[date, list[dict]] = defaultdict(list)
    for cell in cells:
        cell["period"] = cell["day"].replace(day=1) if grain == "month" else cell["day"]
        by_month[cell["day"].replace(day=1)].append(cell)
    for month, month_cells in sorted(by_month.items()):
        period_end = _month_after(month) - timedelta(days=1)
        pending = month_cells
        converted = False
        for _attempt in range(2):
            items = [ConvertItem(amount_nano=c["amount"] or 0, currency=c["currency"], day=c["day"]) for c in pending]
            try:
                _converter, amounts = convert_items(
                    organization=organization, items=items, period_start=month, period_end=period_end
                )
            except RateGap as gap:
                month_gaps = list(gap.all)
                gaps.extend(month_gaps)
                # A policy over the whole month (mean, period end) fails for every day of it; by day only those.
                by_day = organization.fx_policy == "usage_day"
                missing = [c for c in pending if not by_day or _in_gap(month_gaps, c["currency"], c["day"])]
                for cell in missing:
                    unconverted[cell["currency"]] += cell["amount"] or 0
                    cell["amount"] = None
                pending = [c for c in pending if c["amount"] is not None]
                if not pending:
                    converted = True
                    break
                continue
            for cell, amount in zip(pending, amounts, strict=True):
                cell["amount"] = amount
            converted = True
            break
        if not converted:  # still a gap after leaving out the days it named: convert nothing rather than guess
            for cell in pending:
                unconverted[cell["currency"]] += cell["amount"] or 0
                cell["amount"] = None
    return dict(sorted(unconverted.items())), gaps


@tenant_scoped
def owner_month_spend(
    *, organization: Organization, first_month: date, last_month: date, team_values: set[str] | None = None
) -> dict[int | None, dict[date, int]]:
    """Spend per cost centre (None: unallocated) per calendar month, ``first_month`` to ``last_month``
    (months' first days, inclusive; the last may be the month in progress: its days so far)."""
    last_day = _month_after(last_month) - timedelta(days=1)
    result = spend_rows(
        organization=organization,
        first=first_month,
        last=last_day,
        by=("owner",),
        grain="month",
        team_values=team_values,
    )
    spend: dict[int | None, dict[date, int]] = defaultdict(dict)
    for row in result.rows:
        spend[row["owner"]][row["period"]] = spend[row["owner"]].get(row["period"], 0) + row["amount_nano"]
    return dict(spend)


# --- detail dimensions (e.g. customer) ------------------------------------------------------------------


@tenant_scoped
def detail_spend_rows(
    *,
    organization: Organization,
    dimension: str,
    first: date,
    last: date,
    grain: str | None = None,
    team_values: set[str] | None = None,
    filters: dict[str, str] | None = None,
) -> SpendResult:
    """``spend_rows`` for a detail dimension (high cardinality, kept out of the cube's tag sets): from its
    per-value totals (``MonthlyDetailUsage`` for whole months, else ``DailyDetailUsage``), grouped by the
    dimension's value (the row's ``dimension`` key) and ``period`` with a grain. Those totals are kept per
    value and team only, so of the ``filters`` only the dimension's own value and ``team`` apply
    (``DETAIL_FILTERS``); the visible ``team_values`` always do."""
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain {grain!r}.")
    filters = dict(filters or {})
    base = organization.base_currency
    condition = Q(organization=organization, dimension=dimension)
    if filters.get(dimension):
        condition &= Q(value=filters[dimension])
    if filters.get("team"):
        condition &= Q(team="" if filters["team"] == "(missing)" else filters["team"])
    if team_values is not None:
        condition &= Q(team__in=sorted(team_values))
    months = month_span(first, last) if grain != "day" else None
    if months:
        queryset = MonthlyDetailUsage.objects.filter(condition, month__gte=months[0], month__lte=months[1])
        period_field = "month" if grain == "month" else None
    else:
        queryset = DailyDetailUsage.objects.filter(condition, day__gte=first, day__lte=last)
        if grain == "month":
            queryset = queryset.annotate(period_month=TruncMonth("day"))
            period_field = "period_month"
        else:
            period_field = "day" if grain == "day" else None
    keys = ["value", *([period_field] if period_field else [])]
    sums = dict(amount=Sum("estimated_nano"), requests=Sum("requests"), records=Sum("records"))
    cells = list(queryset.filter(currency=base).values(*keys).annotate(**sums).order_by())
    unconverted: dict[str, int] = {}
    gaps: list[RateGap] = []
    foreign_cells: list[dict] = []
    detail_months = MonthlyDetailUsage.objects.filter(
        condition, month__gte=first.replace(day=1), month__lte=last.replace(day=1)
    )
    if detail_months.exclude(currency=base).exists():
        daily = DailyDetailUsage.objects.filter(condition, day__gte=first, day__lte=last).exclude(currency=base)
        foreign_cells = list(daily.values("value", "currency", "day").annotate(**sums).order_by())
        unconverted, gaps = _convert(organization, foreign_cells, grain)
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell in [*cells, *(c for c in foreign_cells if c.get("amount") is not None)]:
        key = [cell["value"]]
        if grain:
            period = cell["period"] if "period" in cell else cell[period_field]
            key.append(period.replace(day=1) if grain == "month" else period)
        group = groups[tuple(key)]
        group[0] += cell["amount"] or 0
        group[1] += cell["requests"] or 0
        group[2] += cell["records"] or 0
    names = [dimension, *(["period"] if grain else [])]
    rows = [
        {**dict(zip(names, key, strict=True)), "amount_nano": amount, "requests": requests, "records": records}
        for key, (amount, requests, records) in groups.items()
    ]
    rows.sort(key=lambda row: tuple(str(row[name]) for name in names))
    return SpendResult(currency=base, rows=rows, unconverted=unconverted, gaps=gaps)


DETAIL_FILTERS = ("team",)  # besides the dimension itself: what a detail dimension's totals can be filtered by
