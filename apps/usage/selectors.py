"""Reads over usage. Totals and breakdowns come from the DailyUsage cube; only the request list reads raw
UsageRecords: one bounded range of days, a keyset page at a time, by the (organisation, time, id) index."""

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Max, Min, Q, QuerySet, Sum

from apps.core.calendar import month_after, period_bounds, period_of_day
from apps.periods.selectors import settled_periods
from apps.taxonomy.models import Granularity, TagDimension, TagSet, TagValue
from apps.tenancy.models import Membership, Organization
from apps.tenancy.scoping import tenant_scoped

from .models import (
    COST_COLUMNS,
    CUBE_SUM_FIELDS,
    DailyDetailUsage,
    DailyUsage,
    IngestJob,
    MonthlyDetailUsage,
    MonthlyUsage,
    UsageRecord,
    UsageSourceDay,
)
from .rollups import month_span


@dataclass
class UsageFilter:
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    provider: str = ""
    model: str = ""
    service_tier: str = ""
    cost_source: str = ""
    is_retry: bool | None = None
    is_batch: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)


@tenant_scoped
def visible_team_values(*, organization: Organization, membership: Membership) -> set[str] | None:
    """None = everything. A budget owner sees usage whose team tag belongs to a cost centre in their subtree."""
    from apps.owners.selectors import visible_owner_ids

    owner_ids = visible_owner_ids(membership=membership)
    if owner_ids is None:
        return None
    return set(TagValue.objects.filter(dimension__key="team", owner_id__in=owner_ids).values_list("value", flat=True))


@tenant_scoped
def detail_dimension_keys(*, organization: Organization) -> set[str]:
    """Dimensions kept out of the cube (high cardinality, e.g. customer)."""
    return set(TagDimension.objects.filter(granularity=Granularity.DETAIL).values_list("key", flat=True))


def _json_q(field: str, tags: dict[str, str]) -> Q:
    condition = Q()
    for key, value in tags.items():
        if value == "(missing)":
            condition &= ~Q(**{f"{field}__has_key": key})
        else:
            condition &= Q(**{f"{field}__{key}": value})
    return condition


def _tag_q(prefix: str, usage_filter: UsageFilter, team_values: set[str] | None, detail_keys=frozenset()) -> Q:
    condition = _json_q(f"{prefix}tags", {k: v for k, v in usage_filter.tags.items() if k not in detail_keys})
    if team_values is not None:
        condition &= Q(**{f"{prefix}tags__team__in": sorted(team_values)})
    return condition


def _common_q(usage_filter: UsageFilter) -> Q:
    condition = Q()
    if usage_filter.date_from:
        condition &= Q(day__gte=usage_filter.date_from)
    if usage_filter.date_to:
        condition &= Q(day__lte=usage_filter.date_to)
    for name in ("provider", "model", "service_tier"):
        if getattr(usage_filter, name):
            condition &= Q(**{name: getattr(usage_filter, name)})
    if usage_filter.is_retry is not None:
        condition &= Q(is_retry=usage_filter.is_retry)
    if usage_filter.is_batch is not None:
        condition &= Q(is_batch=usage_filter.is_batch)
    return condition


@tenant_scoped
def daily_usage(
    *,
    organization: Organization,
    usage_filter: UsageFilter,
    team_values: set[str] | None,
    detail_keys=frozenset(),
    by_day: bool = True,
) -> QuerySet[DailyUsage] | QuerySet[MonthlyUsage]:
    """The cube, filtered. Filters on detail dimensions are not in the cube: use daily_detail_usage. With
    ``by_day=False`` (the caller does not group by day) and dates that are whole months, the monthly
    rollup: the same sums, without reading every day."""
    months = None if by_day else month_span(usage_filter.date_from, usage_filter.date_to)
    if months:
        monthly = dataclasses.replace(usage_filter, date_from=None, date_to=None)
        queryset = MonthlyUsage.objects.filter(_common_q(monthly), month__gte=months[0], month__lte=months[1])
    else:
        queryset = DailyUsage.objects.filter(_common_q(usage_filter))
    tag_condition = _tag_q("", usage_filter, team_values, detail_keys)
    if tag_condition:
        # Ids, not a subquery: PostgreSQL misjudges how many cube rows a JSON condition on tag sets keeps.
        queryset = queryset.filter(
            tagset_id__in=list(TagSet.objects.filter(tag_condition).values_list("pk", flat=True))
        )
    return queryset


@tenant_scoped
def daily_detail_usage(
    *, organization: Organization, usage_filter: UsageFilter, team_values: set[str] | None, dimension: str
) -> QuerySet[DailyDetailUsage]:
    """Per-value daily totals of one detail dimension, filtered by period, value and team."""
    queryset = DailyDetailUsage.objects.filter(dimension=dimension)
    if usage_filter.date_from:
        queryset = queryset.filter(day__gte=usage_filter.date_from)
    if usage_filter.date_to:
        queryset = queryset.filter(day__lte=usage_filter.date_to)
    value = usage_filter.tags.get(dimension)
    if value == "(missing)":
        return queryset.none()
    if value:
        queryset = queryset.filter(value=value)
    team = usage_filter.tags.get("team")
    if team:
        queryset = queryset.filter(team="" if team == "(missing)" else team)
    if team_values is not None:
        queryset = queryset.filter(team__in=sorted(team_values))
    return queryset


@tenant_scoped
def usage_records(
    *, organization: Organization, usage_filter: UsageFilter, team_values: set[str] | None, detail_keys=frozenset()
) -> QuerySet[UsageRecord]:
    queryset = UsageRecord.objects.filter(_common_q(usage_filter)).select_related("tagset")
    # The same days as bounds on the time too, so the (organisation, occurred_at, id) index reads only that
    # range (``day`` is the UTC date of ``occurred_at``).
    if usage_filter.date_from:
        queryset = queryset.filter(occurred_at__gte=_midnight(usage_filter.date_from))
    if usage_filter.date_to:
        queryset = queryset.filter(occurred_at__lt=_midnight(usage_filter.date_to + timedelta(days=1)))
    tag_condition = _tag_q("", usage_filter, team_values, detail_keys)
    if tag_condition:
        # The tag sets as a list of ids, not a subquery: PostgreSQL then estimates how many rows they hold
        # and reads the (organisation, time, id) index newest first, instead of every matching row of the
        # month through the tag-set index followed by a sort (55 ms for a budget owner at 1M rows).
        tagset_ids = list(TagSet.objects.filter(tag_condition).values_list("pk", flat=True))
        queryset = queryset.filter(tagset_id__in=tagset_ids)
    detail_condition = _json_q("detail_tags", {k: v for k, v in usage_filter.tags.items() if k in detail_keys})
    if detail_condition:
        queryset = queryset.filter(detail_condition)
    if usage_filter.cost_source == "cache_write":
        # The raw record keeps both cache-write durations; the cube sums them into one column.
        queryset = queryset.filter(Q(cache_write_5m_tokens__gt=0) | Q(cache_write_1h_tokens__gt=0))
    elif usage_filter.cost_source:
        quantity_field = COST_COLUMNS[usage_filter.cost_source][1]
        queryset = queryset.filter(**{f"{quantity_field}__gt": 0})
    return queryset.order_by("-occurred_at", "-id")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@tenant_scoped
def cube_sum_by_currency(
    *, organization: Organization, first: date, after: date, field: str = "estimated_nano"
) -> dict[str, int]:
    """The sums of one cube measure over the days ``first`` to ``after`` (exclusive), per currency of the
    cells ({"USD": n, "EUR": m}; a currency without cells is absent): amounts of different currencies are
    never added together. The whole calendar months in between come from the monthly rollup, the days at
    either edge from the daily cube."""
    inner_first = first if first.day == 1 else month_after(first.replace(day=1))
    inner_after = after.replace(day=1)
    parts = []
    if inner_first < inner_after:
        parts.append(
            MonthlyUsage.objects.filter(organization=organization, month__gte=inner_first, month__lt=inner_after)
        )
        edges = [(first, inner_first), (inner_after, after)]
    else:
        edges = [(first, after)]
    parts += [
        DailyUsage.objects.filter(organization=organization, day__gte=start, day__lt=end)
        for start, end in edges
        if start < end
    ]
    totals: dict[str, int] = {}
    for queryset in parts:
        for currency, total in queryset.values("currency").annotate(n=Sum(field)).values_list("currency", "n"):
            totals[currency] = totals.get(currency, 0) + (total or 0)
    return dict(sorted(totals.items()))


class MixedCurrencies(ValueError):
    """A single sum was asked of cells in more than one currency."""


@tenant_scoped
def cube_sum(
    *, organization: Organization, first: date, after: date, field: str = "estimated_nano", currency: str | None = None
) -> int:
    """The sum of one cube measure in one currency over the days ``first`` to ``after`` (exclusive). Without
    ``currency`` the cells must all be in one currency (else ``MixedCurrencies``: amounts of two currencies
    are never added); ``cube_sum_by_currency`` gives every currency at once."""
    totals = cube_sum_by_currency(organization=organization, first=first, after=after, field=field)
    if currency is not None:
        return totals.get(currency, 0)
    if len(totals) > 1:
        raise MixedCurrencies(f"the usage of these days is in {', '.join(totals)}: sum it per currency")
    return sum(totals.values())


@tenant_scoped
def latest_usage_day(*, organization: Organization) -> date | None:
    """The last day the organisation has usage on, from the cube (its (organisation, day) index)."""
    return DailyUsage.objects.filter(organization=organization).aggregate(last=Max("day"))["last"]


def _cost_of(row: dict, cost_source: str) -> int:
    if cost_source:
        return row[COST_COLUMNS[cost_source][0]] or 0
    return row["estimated_nano"] or 0


def _totals(rows: list[dict], cost_source: str) -> dict:
    """Quantities summed over every row; amounts (cost columns) only per currency, in ``by_currency``
    (a list of {currency, the cost columns, cost_nano} in currency order). ``cost_nano`` and the cost
    columns at the top level are those of the one currency, or None when there are several."""
    totals = {name: sum(row[name] for row in rows) for name in CUBE_SUM_FIELDS}
    money = [name for name in CUBE_SUM_FIELDS if name.endswith("_nano")]
    per_currency: dict[str, dict] = {}
    for row in rows:
        cell = per_currency.setdefault(row["currency"], dict.fromkeys(money, 0))
        for name in money:
            cell[name] += row[name] or 0
    totals["by_currency"] = [
        {"currency": currency, **sums, "cost_nano": _cost_of(sums, cost_source)}
        for currency, sums in sorted(per_currency.items())
    ]
    if len(per_currency) > 1:
        totals.update(dict.fromkeys(money, None))
        totals["cost_nano"] = None
    else:
        totals["cost_nano"] = _cost_of(totals, cost_source)
    totals["currencies"] = sorted(per_currency)
    return totals


@tenant_scoped
def usage_totals(queryset: QuerySet[DailyUsage], *, organization: Organization, cost_source: str = "") -> dict:
    """The sums of a cube queryset: quantities over everything, amounts per currency (see ``_totals``)."""
    grouped = queryset.values("currency").annotate(**{name: Sum(name) for name in CUBE_SUM_FIELDS}).order_by()
    rows = [{"currency": row["currency"], **{n: row[n] or 0 for n in CUBE_SUM_FIELDS}} for row in grouped]
    return _totals(rows, cost_source)


@tenant_scoped
def totals_of_breakdown(rows: list[dict], *, organization: Organization, cost_source: str = "") -> dict:
    """The totals of a whole (untruncated) breakdown: each cube row is in exactly one of its groups, so this
    equals ``usage_totals`` of the same queryset without reading the cube a second time."""
    return _totals(rows, cost_source)


BREAKDOWN_COLUMNS = ("provider", "model", "service_tier", "day")
DETAIL_BREAKDOWN_COLUMNS = ("value", "team", "day")


@tenant_scoped
def usage_breakdown(queryset: QuerySet, *, organization: Organization, by: str, cost_source: str = "") -> list[dict]:
    """Rows of {key, requests, tokens…, cost_nano, share}, largest cost first. ``by`` is a cube column or
    a tag dimension key; tag breakdowns group by TagSet in the database and fold in Python. On the
    detail table, ``by`` is one of its columns (value, team, day)."""
    columns = DETAIL_BREAKDOWN_COLUMNS if queryset.model is DailyDetailUsage else BREAKDOWN_COLUMNS
    if queryset.model is MonthlyUsage and by == "day":
        raise ValueError("The monthly rollup has no days: read daily_usage(by_day=True) to group by day.")
    if by in columns:
        grouped = queryset.values(by, "currency").annotate(**{n: Sum(n) for n in CUBE_SUM_FIELDS}).order_by()
        rows = [
            {"key": row[by] or "(missing)", "currency": row["currency"], **{n: row[n] or 0 for n in CUBE_SUM_FIELDS}}
            for row in grouped
        ]
    else:
        grouped = queryset.values("tagset_id", "currency").annotate(**{n: Sum(n) for n in CUBE_SUM_FIELDS}).order_by()
        per_tagset = [(row["tagset_id"], row) for row in grouped]
        tags = dict(TagSet.objects.filter(pk__in={pk for pk, _row in per_tagset}).values_list("pk", "tags"))
        folded: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(CUBE_SUM_FIELDS, 0))
        for tagset_id, row in per_tagset:
            key = (tags.get(tagset_id) or {}).get(by) or "(missing)"
            for name in CUBE_SUM_FIELDS:
                folded[(key, row["currency"])][name] += row[name] or 0
        rows = [{"key": key, "currency": currency, **sums} for (key, currency), sums in folded.items()]
    # A row is one group in one currency; its share is of its currency's total (never of a mixed sum).
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        row["cost_nano"] = _cost_of(row, cost_source)
        totals[row["currency"]] += row["cost_nano"]
    for row in rows:
        total = totals[row["currency"]]
        row["share_pct"] = (row["cost_nano"] * 100 / total) if total else 0
    if by == "day":
        return sorted(rows, key=lambda r: (r["key"], r["currency"]))
    return sorted(rows, key=lambda r: (r["currency"], -r["cost_nano"], str(r["key"])))


@tenant_scoped
def ingest_jobs(*, organization: Organization) -> QuerySet[IngestJob]:
    return IngestJob.objects.order_by("-created_at", "-id")


@tenant_scoped
def requests_by_tagset(
    *, organization: Organization, first: date | None = None, last: date | None = None
) -> dict[int, int]:
    """Requests per tag set from the cube, over the days given (inclusive; the tagging-health page). Whole
    months come from the monthly rollup."""
    months = month_span(first, last)
    if months:
        queryset = MonthlyUsage.objects.filter(month__gte=months[0], month__lte=months[1])
        return dict(queryset.values("tagset_id").annotate(n=Sum("requests")).values_list("tagset_id", "n"))
    queryset = DailyUsage.objects.all()
    if first:
        queryset = queryset.filter(day__gte=first)
    if last:
        queryset = queryset.filter(day__lte=last)
    return dict(queryset.values("tagset_id").annotate(n=Sum("requests")).values_list("tagset_id", "n"))


@tenant_scoped
def requests_with_detail_value(
    *, organization: Organization, dimension: str, first: date | None = None, last: date | None = None
) -> int:
    months = month_span(first, last)
    if months:
        queryset = MonthlyDetailUsage.objects.filter(dimension=dimension, month__gte=months[0], month__lte=months[1])
        return queryset.aggregate(n=Sum("requests"))["n"] or 0
    queryset = DailyDetailUsage.objects.filter(dimension=dimension)
    if first:
        queryset = queryset.filter(day__gte=first)
    if last:
        queryset = queryset.filter(day__lte=last)
    return queryset.aggregate(n=Sum("requests"))["n"] or 0


# --- the months of the periods board -------------------------------------------------------------


@tenant_scoped
def months_with_usage(*, organization: Organization) -> set[date]:
    """The periods (by the fiscal calendar) the organisation has usage in (a month source of the periods board).

    Not a DISTINCT over every cube row (which grows with history): the first and last day, then one
    index probe per period between them."""
    bounds = DailyUsage.objects.filter(organization=organization).aggregate(first=Min("day"), last=Max("day"))
    if bounds["first"] is None:
        return set()
    start_day = organization.period_start_day
    period, last = (
        period_of_day(bounds["first"], start_day=start_day),
        period_of_day(bounds["last"], start_day=start_day),
    )
    months = set()
    while period <= last:
        if has_usage_in(organization=organization, period=period):
            months.add(period)
        period = month_after(period)
    return months


@tenant_scoped
def has_usage_in(*, organization: Organization, period: date) -> bool:
    first, after = period_bounds(period, start_day=organization.period_start_day)
    return DailyUsage.objects.filter(organization=organization, day__gte=first, day__lt=after).exists()


# --- overlaps between request logs and provider usage exports -------------------------------------

# Two families of usage sources count the same requests: request-level logs (a gateway's or the
# application's own events) and the providers' bucket-level usage exports. Both for one day, provider and
# model means the day's usage may be counted twice.
REQUEST_SOURCES = frozenset({"events", "litellm", "otel"})
BUCKET_SOURCES = frozenset({"openai-usage", "anthropic-usage"})


@dataclass(frozen=True)
class Overlap:
    """One day × provider × model × currency both families have usage for. ``overlap_nano``, the smaller
    of the two estimates, is what may be counted twice."""

    day: date
    provider: str
    model: str
    currency: str
    request_nano: int
    bucket_nano: int
    request_sources: tuple[str, ...]
    bucket_sources: tuple[str, ...]

    @property
    def overlap_nano(self) -> int:
        return min(self.request_nano, self.bucket_nano)

    def as_json(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "provider": self.provider,
            "model": self.model,
            "currency": self.currency,
            "request_sources": list(self.request_sources),
            "bucket_sources": list(self.bucket_sources),
            "request_nano": self.request_nano,
            "bucket_nano": self.bucket_nano,
            "overlap_nano": self.overlap_nano,
        }


def _overlaps(queryset, cells: set | None = None) -> list[Overlap]:
    grouped: dict[tuple, dict] = {}
    rows = queryset.filter(records__gt=0).values_list(
        "day", "provider", "model", "currency", "source", "estimated_nano"
    )
    for day, provider, model, currency, source, estimated in rows:
        if cells is not None and (day, provider, model) not in cells:
            continue
        family = "request" if source in REQUEST_SOURCES else "bucket" if source in BUCKET_SOURCES else None
        if family is None:
            continue
        cell = grouped.setdefault((day, provider, model, currency), {"request": {}, "bucket": {}})
        cell[family][source] = cell[family].get(source, 0) + estimated
    return [
        Overlap(
            day=day,
            provider=provider,
            model=model,
            currency=currency,
            request_nano=sum(cell["request"].values()),
            bucket_nano=sum(cell["bucket"].values()),
            request_sources=tuple(sorted(cell["request"])),
            bucket_sources=tuple(sorted(cell["bucket"])),
        )
        for (day, provider, model, currency), cell in sorted(grouped.items())
        if cell["request"] and cell["bucket"]
    ]


@tenant_scoped
def overlaps_in(*, organization: Organization, first: date, last: date) -> list[Overlap]:
    """The days ``first`` to ``last`` (inclusive) × provider × model × currency on which request logs and
    provider usage exports both have usage (possibly counted twice), earliest first."""
    return _overlaps(UsageSourceDay.objects.filter(organization=organization, day__gte=first, day__lte=last))


@tenant_scoped
def overlaps_of_cells(*, organization: Organization, cells: set[tuple[date, str, str]]) -> list[Overlap]:
    """``overlaps_in`` for some (day, provider, model) cells only (those an ingest job wrote)."""
    if not cells:
        return []
    queryset = UsageSourceDay.objects.filter(
        organization=organization,
        day__in=sorted({day for day, _provider, _model in cells}),
        provider__in=sorted({provider for _day, provider, _model in cells}),
    )
    return _overlaps(queryset, cells)


@tenant_scoped
def rate_demand(*, organization: Organization) -> list[tuple[str, date, date]]:
    """The currencies other than the base currency that usage of periods not yet approved or closed is in, with the
    first and last day of that usage per period: the days a run will need rates for (a rate demand of ``fx``).

    Read from the monthly rollups (one row per month and cell) and one bounded look-up of the daily cube per
    currency and month, never from the fact table."""
    settled = settled_periods(organization=organization)
    base = organization.base_currency
    start_day = organization.period_start_day
    months = (
        MonthlyUsage.objects.filter(organization=organization)
        .exclude(currency=base)
        .values_list("currency", "month")
        .distinct()
        .order_by("currency", "month")
    )
    demands: list[tuple[str, date, date]] = []
    for currency, month in months:
        bounds = DailyUsage.objects.filter(
            organization=organization, currency=currency, day__gte=month, day__lt=month_after(month)
        ).aggregate(first=Min("day"), last=Max("day"))
        if bounds["first"] is None:
            continue
        period = period_of_day(bounds["first"], start_day=start_day)
        while period <= period_of_day(bounds["last"], start_day=start_day):
            if period not in settled:
                first, after = period_bounds(period, start_day=start_day)
                demands.append((currency, max(first, bounds["first"]), min(after - timedelta(days=1), bounds["last"])))
            period = month_after(period)
    return demands
