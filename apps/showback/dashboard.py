"""The showback dashboard and its trends: what the pages show, read from the cube through ``showback.spend``
(never from the requests), and from reconciliation runs and final statements for the trends.

Every figure is an integer sum in the base currency (``spend_rows`` converts other currencies; amounts
without a rate are shown apart, never added). Each bar and row carries the usage explorer's query for the
same filters and days, so a click lands on the usage behind it (and the explorer links on to the requests).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse

from apps.core.calendar import month_after, month_before
from apps.reconciliation.selectors import readiness_trend
from apps.statements.models import Statement, StatementLine
from apps.statements.selectors import statements_visible
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Perm
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import COST_COLUMNS
from apps.usage.selectors import detail_dimension_keys, latest_usage_day, visible_team_values

from . import charts
from .spend import detail_spend_rows, spend_rows

MISSING = "(missing)"  # the usage explorer's value for "this tag is absent"
TOP_SERIES = 8
MAX_DAY_COLUMNS = 93  # a day grain over more days than this is shown by month
TREND_MONTHS = 13

BREAKDOWNS = [
    ("team", "Team"),
    ("feature", "Feature"),
    ("customer", "Customer"),
    ("workspace", "Workspace"),
    ("environment", "Environment"),
    ("provider", "Provider"),
    ("model", "Model"),
    ("cost_source", "Cost source"),
]
# The dimensions the explorer filters with ``provider=``/``model=``/``cost_source=``; every other one is a
# tag (``tag_<key>=``).
EXPLORER_COLUMNS = {"provider", "model", "service_tier", "cost_source"}


@dataclass(frozen=True)
class DashboardQuery:
    first: date
    last: date  # inclusive
    grain: str  # "day" or "month"
    by: str
    filters: dict[str, str] = field(default_factory=dict)

    def explorer_params(self, *, first: date, last: date, key: str | None = None) -> dict[str, str]:
        """The usage explorer's query for these filters over ``first``..``last`` (and one value of the
        breakdown, when ``key`` is given)."""
        params = {"date_from": first.isoformat(), "date_to": last.isoformat()}
        chosen = dict(self.filters)
        if key is not None:
            chosen[self.by] = key
        for name, value in sorted(chosen.items()):
            params[name if name in EXPLORER_COLUMNS else f"tag_{name}"] = value
        params["group_by"] = "day" if first != last and self.grain == "day" else _explorer_group(self.by, chosen)
        return params


def _explorer_group(by: str, chosen: dict) -> str:
    """What the explorer should group by after the drill-down: the breakdown itself if it is still open,
    else the next useful one."""
    if by == "cost_source":
        return "model"
    if by not in chosen:
        return by
    return "model" if by != "model" else "team"


def _key_text(value) -> str:
    return MISSING if value in (None, "") else str(value)


def month_range(first_month: date, last_month: date) -> list[date]:
    months, month = [], first_month
    while month <= last_month:
        months.append(month)
        month = month_after(month)
    return months


def month_end(month: date) -> date:
    return month_after(month) - timedelta(days=1)


def _columns(query: DashboardQuery) -> list[tuple[date, str, date, date]]:
    """(period key, label, first day, last day) of each column of the range, clipped to the range."""
    if query.grain == "day":
        days = (query.last - query.first).days + 1
        return [
            (day, day.strftime("%d %b"), day, day)
            for day in (query.first + timedelta(days=offset) for offset in range(days))
        ]
    return [
        (month, month.strftime("%b %Y"), max(month, query.first), min(month_end(month), query.last))
        for month in month_range(query.first.replace(day=1), query.last.replace(day=1))
    ]


def _pct_change(now: int, before: int) -> Decimal | None:
    if not before:
        return None
    return (Decimal(now - before) * 100 / Decimal(abs(before))).quantize(Decimal("0.1"))


@dataclass
class ChangeRow:
    key: str
    now: int
    before: int
    href: str

    @property
    def change(self) -> int:
        return self.now - self.before

    @property
    def change_pct(self) -> Decimal | None:
        return _pct_change(self.now, self.before)


@dataclass
class UnitRow:
    key: str
    amount_nano: int
    requests: int
    href: str

    @property
    def per_request_nano(self) -> int | None:
        return self.amount_nano // self.requests if self.requests else None


@dataclass
class Dashboard:
    query: DashboardQuery
    spend: charts.StackedChart
    volume: charts.StackedChart
    total_nano: int
    requests: int
    unallocated_nano: int
    unconverted: dict[str, int]
    changes: list[ChangeRow]
    change_window: tuple[date, date, date, date]  # this month's first and last day, last month's
    per_request: list[UnitRow]
    restricted: bool
    note: str = ""

    @property
    def unallocated_pct(self) -> Decimal | None:
        if not self.total_nano:
            return None
        return (Decimal(self.unallocated_nano) * 100 / Decimal(self.total_nano)).quantize(Decimal("0.1"))


def _explorer_url(organization: Organization, params: dict[str, str]) -> str:
    return f"{reverse('usage:explorer', kwargs={'org_slug': organization.slug})}?{urlencode(params)}"


def _merge_unconverted(*amounts: dict[str, int]) -> dict[str, int]:
    """The amounts left out for want of a rate, per currency, of several reads of the same spend: the
    largest figure per currency (each read covers the same cells; adding them would count them again)."""
    merged: dict[str, int] = {}
    for per_currency in amounts:
        for currency, nano in (per_currency or {}).items():
            merged[currency] = max(merged.get(currency, 0), nano)
    return dict(sorted(merged.items()))


@dataclass
class Reader:
    """Reads spend for the dashboard's query: the cube through ``spend_rows`` for the cube's dimensions, a
    detail dimension's own totals (``detail_spend_rows``) when the breakdown or a filter is one, and a cost
    source's column when the breakdown or a filter is the cost source."""

    organization: Organization
    team_values: set[str] | None
    filters: dict[str, str]
    detail_keys: set[str]

    @property
    def measure(self) -> str:
        source = self.filters.get("cost_source")
        return COST_COLUMNS[source][0] if source in COST_COLUMNS else "estimated_nano"

    @property
    def cube_filters(self) -> dict[str, str]:
        return {k: v for k, v in self.filters.items() if k != "cost_source" and k not in self.detail_keys}

    @property
    def detail_filter(self) -> str | None:
        return next((key for key in self.filters if key in self.detail_keys), None)

    def rows(self, *, first: date, last: date, by: str, grain: str | None) -> tuple[list[dict], dict[str, int]]:
        """(rows with ``by`` as their key, amounts without a rate per currency)."""
        dimension = by if by in self.detail_keys else self.detail_filter
        if dimension is not None:
            result = detail_spend_rows(
                organization=self.organization,
                dimension=dimension,
                first=first,
                last=last,
                grain=grain,
                team_values=self.team_values,
                filters=self.filters,
            )
            return result.rows, result.unconverted
        common = {"organization": self.organization, "team_values": self.team_values, "filters": self.cube_filters}
        if by == "cost_source":
            rows: list[dict] = []
            unconverted: dict[str, int] = {}
            wanted = [self.filters["cost_source"]] if self.filters.get("cost_source") else list(COST_COLUMNS)
            for source in wanted:
                result = spend_rows(first=first, last=last, grain=grain, measure=COST_COLUMNS[source][0], **common)
                rows += [{**row, "cost_source": source} for row in result.rows if row["amount_nano"]]
                unconverted = _merge_unconverted(unconverted, result.unconverted)
            return rows, unconverted
        result = spend_rows(first=first, last=last, by=(by,), grain=grain, measure=self.measure, **common)
        return result.rows, result.unconverted


@tenant_scoped
def dashboard(*, organization: Organization, membership: Membership, query: DashboardQuery) -> Dashboard:
    """Everything the dashboard page shows, from a few reads of the cube (or its monthly rollup for whole
    months): the series by the breakdown, the unallocated spend, this month and last month by the breakdown
    (the change), and spend and requests by feature (cost per request)."""
    team_values = visible_team_values(organization=organization, membership=membership)
    notes = []
    if query.grain == "day" and (query.last - query.first).days >= MAX_DAY_COLUMNS:
        query = DashboardQuery(first=query.first, last=query.last, grain="month", by=query.by, filters=query.filters)
        notes.append(f"More than {MAX_DAY_COLUMNS} days: shown by month.")
    reader = Reader(
        organization=organization,
        team_values=team_values,
        filters=dict(query.filters),
        detail_keys=detail_dimension_keys(organization=organization),
    )
    detail = query.by if query.by in reader.detail_keys else reader.detail_filter
    if detail and query.by != detail:
        query = DashboardQuery(first=query.first, last=query.last, grain=query.grain, by=detail, filters=query.filters)
        notes.append(f"Spend is kept per {detail} without the other dimensions: broken down by {detail}.")
    if detail:
        notes.append(
            f"{detail.capitalize()} totals are kept per {detail} and team: the other filters do not apply to the "
            f"{detail} figures, and unallocated spend and cost per request are for every {detail}."
        )
    columns = _columns(query)
    bounds = {key: (first, last) for key, _label, first, last in columns}

    series, unconverted = reader.rows(first=query.first, last=query.last, by=query.by, grain=query.grain)
    values: dict[date, dict[str, int]] = {}
    requests: dict[date, dict[str, int]] = {}
    for row in series:
        key = _key_text(row[query.by])
        period = row["period"]
        values.setdefault(period, {})[key] = values.get(period, {}).get(key, 0) + row["amount_nano"]
    if query.by == "cost_source":
        # Every cost source is a share of the same requests: count them once.
        counted, _ = Reader(organization, team_values, reader.cube_filters, reader.detail_keys).rows(
            first=query.first, last=query.last, by="provider", grain=query.grain
        )
    else:
        counted = series
    for row in counted:
        cell = requests.setdefault(row["period"], {})
        cell["requests"] = cell.get("requests", 0) + row["requests"]

    def href(period, key):
        first, last = bounds[period]
        return _explorer_url(organization, query.explorer_params(first=first, last=last, key=key))

    grain_word = "day" if query.grain == "day" else "month"
    spend_chart = charts.stacked_chart(
        title=f"Spend by {query.by.replace('_', ' ')} per {grain_word}",
        desc=f"Estimated spend in {organization.base_currency} from {query.first} to {query.last}, the largest "
        f"{TOP_SERIES} values of {query.by.replace('_', ' ')} on their own and the rest as other.",
        columns=[(key, label) for key, label, _first, _last in columns],
        values=values,
        top=TOP_SERIES,
        unit="money",
        segment_href=href,
    )
    volume_chart = charts.stacked_chart(
        title=f"Requests per {grain_word}",
        desc=f"Requests from {query.first} to {query.last}.",
        columns=[(key, label) for key, label, _first, _last in columns],
        values=requests,
        top=1,
        unit="count",
        label_of=lambda _key: "requests",
        segment_href=lambda period, _key: href(period, None),
    )

    owners = spend_rows(
        organization=organization,
        first=query.first,
        last=query.last,
        by=("owner",),
        team_values=team_values,
        filters=reader.cube_filters,
        measure=reader.measure,
    )
    unallocated = sum(row["amount_nano"] for row in owners.rows if row["owner"] is None)

    # The change: the month the range ends in against the month before. A month with usage to its end is
    # compared with the whole month before; a month to date (usage up to day d so far) with days 1 to d of
    # the month before, so it is compared like for like.
    this_first = query.last.replace(day=1)
    latest = latest_usage_day(organization=organization)
    through = query.last if latest is None or latest >= query.last else max(latest, this_first)
    before_first = month_before(this_first)
    if through == month_end(through):
        before_last = month_end(before_first)
    else:
        before_last = min(before_first + timedelta(days=through.day - 1), month_end(before_first))
    now, _ = reader.rows(first=this_first, last=query.last, by=query.by, grain=None)
    before, _ = reader.rows(first=before_first, last=before_last, by=query.by, grain=None)
    change_values: dict[str, list[int]] = {}
    for index, rows in enumerate((now, before)):
        for row in rows:
            cell = change_values.setdefault(_key_text(row[query.by]), [0, 0])
            cell[index] += row["amount_nano"]
    changes = [
        ChangeRow(
            key=key,
            now=amounts[0],
            before=amounts[1],
            href=_explorer_url(organization, query.explorer_params(first=this_first, last=query.last, key=key)),
        )
        for key, amounts in sorted(change_values.items(), key=lambda item: (-abs(item[1][0] - item[1][1]), item[0]))
    ]

    features = spend_rows(
        organization=organization,
        first=query.first,
        last=query.last,
        by=("feature",),
        team_values=team_values,
        filters=reader.cube_filters,
        measure=reader.measure,
    )
    feature_query = DashboardQuery(query.first, query.last, query.grain, "feature", query.filters)
    per_request = [
        UnitRow(
            key=_key_text(row["feature"]),
            amount_nano=row["amount_nano"],
            requests=row["requests"],
            href=_explorer_url(
                organization,
                feature_query.explorer_params(first=query.first, last=query.last, key=_key_text(row["feature"])),
            ),
        )
        for row in sorted(features.rows, key=lambda r: (-r["amount_nano"], _key_text(r["feature"])))
    ]
    return Dashboard(
        query=query,
        spend=spend_chart,
        volume=volume_chart,
        total_nano=sum(row["amount_nano"] for row in series),
        requests=sum(row["requests"] for row in counted),
        unallocated_nano=unallocated,
        unconverted=_merge_unconverted({}, unconverted, owners.unconverted),
        changes=changes,
        change_window=(this_first, through, before_first, before_last),
        per_request=per_request,
        restricted=team_values is not None,
        note=" ".join(notes),
    )


# --- trends: readiness, cost per feature, request volume growth ----------------------------------


@dataclass
class GrowthRow:
    key: str
    requests: list[int]  # per month, oldest first
    growth: list[Decimal | None]  # month over month %, None for the first month or from zero

    @property
    def cells(self) -> list[tuple[int, Decimal | None]]:
        return list(zip(self.requests, self.growth, strict=True))


@dataclass
class Trends:
    months: list[date]
    readiness: list | None  # None: the role does not see organisation-wide readiness
    feature_chart: charts.StackedChart
    feature_currencies: list[str]
    volume_growth: list[GrowthRow]
    volume_totals: GrowthRow


@tenant_scoped
def charged_by_feature(
    *, organization: Organization, membership: Membership, months: list[date]
) -> dict[tuple[date, str, str], int]:
    """What final statements charged per (month, feature, currency): the current (not superseded) final
    version of each visible owner's statement. One grouped query."""
    statements = statements_visible(membership=membership).filter(
        period__in=months, status=Statement.Status.FINAL, superseded_by__isnull=True
    )
    rows = (
        StatementLine.objects.filter(statement__in=statements)
        .values("statement__period", "feature", "statement__currency")
        .annotate(total=Sum("amount_nano"))
        .order_by()
    )
    return {
        (row["statement__period"], row["feature"] or MISSING, row["statement__currency"]): row["total"] or 0
        for row in rows
    }


def _growth(values: list[int]) -> list[Decimal | None]:
    return [None] + [_pct_change(now, before) for before, now in pairwise(values)]


@tenant_scoped
def trends(*, organization: Organization, membership: Membership, last_month: date) -> Trends:
    months = month_range(months_back(last_month, TREND_MONTHS - 1), last_month)
    sees_all = any(membership.has_perm(perm) for perm in (Perm.PREPARE_PERIOD, Perm.VIEW_ALL_COST))
    readiness = readiness_trend(organization=organization, months=months) if sees_all else None

    charged = charged_by_feature(organization=organization, membership=membership, months=months)
    currencies = sorted({currency for _month, _feature, currency in charged})
    shown = organization.base_currency if organization.base_currency in currencies or not currencies else currencies[0]
    values: dict[date, dict[str, int]] = {}
    for (month, feature, currency), total in charged.items():
        if currency == shown:
            values.setdefault(month, {})[feature] = values.get(month, {}).get(feature, 0) + total
    statements_url = reverse("statements:list", kwargs={"org_slug": organization.slug})
    feature_chart = charts.stacked_chart(
        title="Charged per feature per month",
        desc=f"What final statements charged, per feature, in {shown}, {months[0]:%B %Y} to {months[-1]:%B %Y}.",
        columns=[(month, month.strftime("%b %Y")) for month in months],
        values=values,
        top=TOP_SERIES,
        unit="money",
        segment_href=lambda month, _key: f"{statements_url}?{urlencode({'period': month.strftime('%Y-%m')})}",
    )

    team_values = visible_team_values(organization=organization, membership=membership)
    result = spend_rows(
        organization=organization,
        first=month_before(months[0]),
        last=month_end(months[-1]),
        by=("team",),
        grain="month",
        team_values=team_values,
    )
    all_months = [month_before(months[0]), *months]
    per_team: dict[str, dict[date, int]] = {}
    for row in result.rows:
        cell = per_team.setdefault(_key_text(row["team"]), {})
        cell[row["period"]] = cell.get(row["period"], 0) + row["requests"]
    growth = []
    for key, per_month in sorted(per_team.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        counts = [per_month.get(month, 0) for month in all_months]
        growth.append(GrowthRow(key=key, requests=counts[1:], growth=_growth(counts)[1:]))
    totals = [sum(per_month.get(month, 0) for per_month in per_team.values()) for month in all_months]
    return Trends(
        months=months,
        readiness=readiness,
        feature_chart=feature_chart,
        feature_currencies=currencies,
        volume_growth=growth,
        volume_totals=GrowthRow(key="All teams", requests=totals[1:], growth=_growth(totals)[1:]),
    )


def months_back(month: date, count: int) -> date:
    """The month ``count`` months before ``month``."""
    for _ in range(count):
        month = month_before(month)
    return month
