"""The monthly rollups (MonthlyUsage, MonthlyDetailUsage) are the daily cube summed by month, however the
cube was written (a new file, a file meeting stored rows, late data for an old month, a second
organisation), and the pages that read them show exactly what the daily cube gives."""

from collections import defaultdict
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_scopes import scope

from apps.reconciliation.selectors import period_figures
from apps.tenancy.roles import Role
from apps.usage.models import CUBE_SUM_FIELDS, DailyDetailUsage, DailyUsage, MonthlyDetailUsage, MonthlyUsage
from apps.usage.rollups import month_span, rebuild_sql, rollups_rebuild
from apps.usage.selectors import (
    UsageFilter,
    cube_sum,
    daily_usage,
    requests_by_tagset,
    requests_with_detail_value,
    usage_breakdown,
)
from tests.usage.test_ingest import event, ingest, ndjson

pytestmark = pytest.mark.django_db


def tagged(request_id: str, when: str, **changes) -> dict:
    tags = {**event()["tags"], **changes.pop("tags", {})}
    for key in [k for k, v in tags.items() if v is None]:
        del tags[key]
    return event(request_id, occurred_at=when, tags=tags, **changes)


@pytest.fixture
def history(catalog):
    """Alpha: September to November 2026 over two files, the second meeting stored rows and bringing late
    rows for September; two customers, two teams, a model of its own, a retry; beta: October."""
    alpha, beta = catalog.org("a"), catalog.org("b")
    first = [
        tagged("a1", "2026-09-01T00:00:00Z", tags={"customer": "cust_1"}),
        tagged("a2", "2026-09-30T23:59:59Z", tags={"customer": "cust_2", "team": "support"}),
        tagged("a3", "2026-10-01T00:00:00Z", tags={"customer": None}),
        tagged("a4", "2026-10-17T08:00:00Z", tags={"team": None}, is_retry=True),
        tagged("a5", "2026-11-30T12:00:00Z", model="gpt-4o-mini", provider="openai"),
    ]
    ingest(alpha, ndjson(*first))
    second = [
        *first[:2],  # stored already: duplicates, not counted twice
        tagged("a6", "2026-09-12T09:00:00Z", tags={"customer": "cust_1"}),  # late, in September
        tagged("a7", "2026-10-17T09:00:00Z", tags={"team": None}, is_retry=True),  # same cube cell as a4
        tagged("a8", "2026-11-02T10:00:00Z", tags={"customer": "cust_2", "team": "support"}),
    ]
    job = ingest(alpha, ndjson(*second))
    assert (job.accepted, job.duplicates) == (3, 2)
    ingest(beta, ndjson(tagged("b1", "2026-10-05T10:00:00Z", tags={"customer": "cust_1"})))
    return catalog


KEY = ("provider", "model", "service_tier", "tagset_id", "is_retry", "is_batch")
DETAIL = ("dimension", "value", "team")


def from_cube(organization, model, key) -> dict:
    """The daily cube summed by month in Python: what the rollup must hold."""
    months: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(CUBE_SUM_FIELDS))
    with scope(organization=organization):
        for row in model.objects.values("day", *key, *CUBE_SUM_FIELDS):
            cell = months[(row["day"].replace(day=1), *(row[k] for k in key))]
            for index, name in enumerate(CUBE_SUM_FIELDS):
                cell[index] += row[name]
    return dict(months)


def rollup(organization, model, key) -> dict:
    with scope(organization=organization):
        return {
            (row["month"], *(row[k] for k in key)): [row[n] for n in CUBE_SUM_FIELDS]
            for row in model.objects.values("month", *key, *CUBE_SUM_FIELDS)
        }


def assert_rollups_match_the_cube(world) -> None:
    for key in ("a", "b"):
        organization = world.org(key)
        assert rollup(organization, MonthlyUsage, KEY) == from_cube(organization, DailyUsage, KEY)
        assert rollup(organization, MonthlyDetailUsage, DETAIL) == from_cube(organization, DailyDetailUsage, DETAIL)


def test_the_writer_keeps_the_rollups_equal_to_the_cube_by_month(history):
    assert_rollups_match_the_cube(history)
    alpha = history.org("a")
    months = rollup(alpha, MonthlyUsage, KEY)
    assert {key[0] for key in months} == {date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)}
    requests = CUBE_SUM_FIELDS.index("requests")
    assert sum(sums[requests] for sums in months.values()) == 8
    # a4 and a7: one daily cell, one month cell with both
    with scope(organization=alpha):
        retry = MonthlyUsage.objects.get(month=date(2026, 10, 1), is_retry=True)
        assert (retry.records, retry.requests) == (2, 2)
        customers = dict(MonthlyDetailUsage.objects.filter(month=date(2026, 9, 1)).values_list("value", "requests"))
    assert customers == {"cust_1": 2, "cust_2": 1}  # a1 and the late a6; a2
    beta = rollup(history.org("b"), MonthlyUsage, KEY)
    assert [key[0] for key in beta] == [date(2026, 10, 1)]


def test_rebuilding_gives_what_the_writer_kept(history):
    alpha = history.org("a")
    kept = rollup(alpha, MonthlyUsage, KEY), rollup(alpha, MonthlyDetailUsage, DETAIL)
    with scope(organization=alpha):
        MonthlyUsage.objects.all().delete()
        MonthlyDetailUsage.objects.all().delete()
    rollups_rebuild(organization=alpha)
    assert (rollup(alpha, MonthlyUsage, KEY), rollup(alpha, MonthlyDetailUsage, DETAIL)) == kept
    # The migration's backfill: every organisation at once, from the cube alone.
    with connection.cursor() as cursor:
        for sql, params in rebuild_sql():
            cursor.execute(sql, params)
    assert (rollup(alpha, MonthlyUsage, KEY), rollup(alpha, MonthlyDetailUsage, DETAIL)) == kept
    assert_rollups_match_the_cube(history)


def test_month_span_is_whole_calendar_months_only():
    assert month_span(date(2026, 10, 1), date(2026, 10, 31)) == (date(2026, 10, 1), date(2026, 10, 1))
    assert month_span(date(2026, 9, 1), date(2026, 12, 31)) == (date(2026, 9, 1), date(2026, 12, 1))
    assert month_span(date(2024, 2, 1), date(2024, 2, 29)) == (date(2024, 2, 1), date(2024, 2, 1))
    assert month_span(date(2026, 10, 2), date(2026, 10, 31)) is None
    assert month_span(date(2026, 10, 1), date(2026, 10, 30)) is None
    assert month_span(date(2026, 10, 1), None) is None
    assert month_span(date(2026, 11, 1), date(2026, 10, 31)) is None


def daily_requests_by_tagset(organization, first, last) -> dict:
    totals: dict[int, int] = defaultdict(int)
    with scope(organization=organization):
        for tagset_id, requests in DailyUsage.objects.filter(day__gte=first, day__lte=last).values_list(
            "tagset_id", "requests"
        ):
            totals[tagset_id] += requests
    return dict(totals)


def daily_detail_requests(organization, first, last) -> int:
    with scope(organization=organization):
        rows = DailyDetailUsage.objects.filter(dimension="customer", day__gte=first, day__lte=last)
        return sum(rows.values_list("requests", flat=True))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 9, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 9, 1), date(2026, 11, 30)),
        (date(2026, 9, 12), date(2026, 10, 17)),  # not whole months: the daily cube
    ],
)
def test_tagging_health_counts_equal_the_daily_cube(history, first, last):
    for key in ("a", "b"):
        organization = history.org(key)
        assert requests_by_tagset(organization=organization, first=first, last=last) == daily_requests_by_tagset(
            organization, first, last
        )
        assert requests_with_detail_value(
            organization=organization, dimension="customer", first=first, last=last
        ) == daily_detail_requests(organization, first, last)


def test_tagging_health_page_shows_the_daily_cubes_figures(history):
    client = history.login("a", Role.FINANCE_ANALYST)
    response = client.get(reverse("usage:tagging_health", kwargs={"org_slug": "alpha"}), {"month": "2026-09"})
    rows = {row.key: (row.counted, row.missing) for row in response.context["rows"]}
    # September: a1, a2, a6; every one has a team and a customer
    assert (rows["team"], rows["customer"]) == ((3, 0), (3, 0))
    october = client.get(reverse("usage:tagging_health", kwargs={"org_slug": "alpha"}), {"month": "2026-10"})
    rows = {row.key: (row.counted, row.missing) for row in october.context["rows"]}
    # October: a3 (no customer), a4 and a7 (no team)
    assert (rows["team"], rows["customer"]) == ((3, 2), (3, 1))


def own_search_team(world) -> None:
    """The budget owner of alpha owns the cost centre of the search team (not support, not untagged)."""
    from apps.owners.models import BudgetOwner
    from apps.taxonomy.models import TagDimension, TagValue

    alpha = world.org("a")
    with scope(organization=alpha):
        team = TagDimension.objects.get(key="team")
        centre = BudgetOwner.objects.create(organization=alpha, code="CC-1101", name="Search")
        centre.owner_users.add(world.user("a", Role.BUDGET_OWNER))
        TagValue.objects.create(organization=alpha, dimension=team, value="search", owner=centre)
        TagValue.objects.create(organization=alpha, dimension=team, value="support")


@pytest.mark.parametrize("group_by", ["team", "feature", "provider", "model", "service_tier"])
@pytest.mark.parametrize(("role", "team_values"), [(Role.FINANCE_ADMIN, None), (Role.BUDGET_OWNER, {"search"})])
def test_the_explorer_default_equals_the_daily_cube(history, group_by, role, team_values):
    """The default (the latest month, November) and a three-month range: the rollup's breakdown is the
    daily cube's, row by row, for a finance admin and for a budget owner (who sees their team only)."""
    own_search_team(history)
    alpha = history.org("a")
    client = history.login("a", role)
    url = reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    three_months = {"date_from": "2026-09-01", "date_to": "2026-11-30"}
    for params, (first, last) in (
        ({"group_by": group_by}, (date(2026, 11, 1), date(2026, 11, 30))),
        ({"group_by": group_by, **three_months}, (date(2026, 9, 1), date(2026, 11, 30))),
    ):
        response = client.get(url, params)
        assert response.status_code == 200
        assert response.context["restricted"] is (team_values is not None)
        with scope(organization=alpha):
            cube = daily_usage(
                organization=alpha, usage_filter=UsageFilter(date_from=first, date_to=last), team_values=team_values
            )
            assert cube.model is DailyUsage
            expected = usage_breakdown(cube, organization=alpha, by=group_by)
        assert response.context["breakdown"] == expected
        assert expected
    restricted = client.get(url, {"group_by": "team", **three_months}).context["breakdown"]
    if team_values is not None:
        assert [(row["key"], row["requests"]) for row in restricted] == [("search", 4)]  # a1, a3, a5, a6


def test_the_explorer_by_day_still_reads_the_days(history):
    alpha = history.org("a")
    with scope(organization=alpha):
        month = UsageFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
        assert daily_usage(organization=alpha, usage_filter=month, team_values=None).model is DailyUsage
        assert daily_usage(organization=alpha, usage_filter=month, team_values=None, by_day=False).model is MonthlyUsage
        part = UsageFilter(date_from=date(2026, 10, 2), date_to=date(2026, 10, 31))
        assert daily_usage(organization=alpha, usage_filter=part, team_values=None, by_day=False).model is DailyUsage
    response = history.login("a", Role.FINANCE_ADMIN).get(
        reverse("usage:explorer", kwargs={"org_slug": "alpha"}), {"group_by": "day", "month": "2026-10"}
    )
    assert [row["key"] for row in response.context["breakdown"]] == [date(2026, 10, 1), date(2026, 10, 17)]


def daily_estimated(organization, first, after) -> int:
    with scope(organization=organization):
        rows = DailyUsage.objects.filter(day__gte=first, day__lt=after)
        return sum(rows.values_list("estimated_nano", flat=True))


@pytest.mark.parametrize(
    ("first", "after"),
    [
        (date(2026, 9, 1), date(2026, 10, 1)),
        (date(2026, 9, 1), date(2026, 12, 1)),
        (date(2026, 9, 15), date(2026, 10, 15)),  # a fiscal period starting on the 15th: days only
        (date(2026, 9, 15), date(2026, 11, 15)),  # one whole month between two partial ones
        (date(2026, 10, 17), date(2026, 10, 18)),
    ],
)
def test_cube_sum_equals_the_daily_cube(history, first, after):
    for key in ("a", "b"):
        organization = history.org(key)
        expected = daily_estimated(organization, first, after)
        assert cube_sum(organization=organization, first=first, after=after) == expected
    assert daily_estimated(history.org("a"), first, after) > 0


@pytest.mark.parametrize("start_day", [1, 15])
def test_the_periods_boards_live_figures_equal_the_daily_cube(history, start_day):
    from apps.core.calendar import period_bounds

    alpha = history.org("a")
    alpha.period_start_day = start_day
    alpha.save(update_fields=["period_start_day"])
    periods = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    figures = period_figures(organization=alpha, periods=periods)
    for period in periods:
        first, after = period_bounds(period, start_day=start_day)
        assert figures[period].source == "live"
        assert figures[period].estimated_nano == daily_estimated(alpha, first, after)
    response = history.login("a", Role.FINANCE_ADMIN).get(reverse("periods:board", kwargs={"org_slug": "alpha"}))
    shown = {row.period: row.figures.estimated_nano for row in response.context["rows"]}
    assert {p: shown[p] for p in periods} == {p: figures[p].estimated_nano for p in periods}


def test_the_bulk_loader_leaves_the_cube_and_rollups_equal_to_the_rows(catalog):
    from apps.usage.bulk_load import usage_bulk_load

    alpha = catalog.org("a")
    if connection.vendor != "postgresql":
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            usage_bulk_load(organization=alpha, rows=10, start=date(2026, 9, 1), days=3)
        return
    ingest(alpha, ndjson(tagged("own", "2026-09-02T10:00:00Z")))  # a row of its own, kept in the cube
    job = usage_bulk_load(organization=alpha, rows=2_500, start=date(2026, 9, 20), days=20, template_rows=300)
    assert job.accepted == 2_500
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT request_id), min(day), max(day), sum(estimated_nano) "
            "FROM usage_usagerecord WHERE organization_id = %s AND job_id = %s",
            [alpha.pk, job.pk],
        )
        count, distinct, first_day, last_day, estimated = cursor.fetchone()
        assert (count, distinct, first_day, last_day) == (2_500, 2_500, date(2026, 9, 20), date(2026, 10, 9))
        assert job.estimated_nano == estimated
        # Every cube cell is the GROUP BY of its rows, the detail cells too.
        cursor.execute(
            """SELECT count(*) FROM (
                 SELECT day, provider, model, service_tier, tagset_id, is_retry, is_batch,
                        count(*) AS records, sum(request_count) AS requests, sum(estimated_nano) AS estimated,
                        sum(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write
                   FROM usage_usagerecord WHERE organization_id = %(org)s
                  GROUP BY 1, 2, 3, 4, 5, 6, 7
                 EXCEPT
                 SELECT day, provider, model, service_tier, tagset_id, is_retry, is_batch,
                        records, requests, estimated_nano, cache_write_tokens
                   FROM usage_dailyusage WHERE organization_id = %(org)s) AS differ""",
            {"org": alpha.pk},
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM usage_dailyusage WHERE organization_id = %s", [alpha.pk])
        assert cursor.fetchone()[0] > 0
        cursor.execute(
            "SELECT sum(requests) FROM usage_dailydetailusage WHERE organization_id = %s AND dimension = 'customer'",
            [alpha.pk],
        )
        with_customer = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM usage_usagerecord WHERE organization_id = %s AND detail_tags ? 'customer'",
            [alpha.pk],
        )
        assert with_customer == cursor.fetchone()[0]
    assert_rollups_match_the_cube(catalog)


def test_the_rebuild_command_refills_an_organisations_rollups(history):
    alpha = history.org("a")
    kept = rollup(alpha, MonthlyUsage, KEY)
    with scope(organization=alpha):
        MonthlyUsage.objects.all().delete()
    call_command("rebuild_usage_rollups", "--org", "alpha")
    assert rollup(alpha, MonthlyUsage, KEY) == kept


def test_a_row_that_would_overflow_a_month_cell_is_refused_and_the_rest_kept(catalog):
    """A month cell is a sum like a day cell: the row that would take it beyond MAX_SUM is refused with
    its line, the rows that fit (and the next month's) are stored, and the rollup stays an integer."""
    from apps.core.ceilings import MAX_SUM
    from tests.usage.test_number_ceilings import errors_of, stored_ids, with_tokens

    org = catalog.org("a")
    ingest(org, ndjson(with_tokens("seed", input_tokens=1)))  # 2026-10-03
    with scope(organization=org):
        MonthlyUsage.objects.update(input_tokens=MAX_SUM - 150)
    later_day, next_month = with_tokens("fits", input_tokens=100), with_tokens("november", input_tokens=100)
    later_day["occurred_at"] = "2026-10-20T09:00:00Z"  # another day: its own day cell, the same month cell
    over = dict(later_day, request_id="overflows")
    next_month["occurred_at"] = "2026-11-02T09:00:00Z"
    job = ingest(org, ndjson(later_day, over, next_month))
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 2, 1)
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (2, "usage")
    assert message.startswith(
        "adding this row would take the 2026-10 total of anthropic claude-sonnet-4-5 (input_tokens)"
    )
    assert stored_ids(org) == ["fits", "november", "seed"]
    with scope(organization=org):
        october = MonthlyUsage.objects.get(month=date(2026, 10, 1))
        assert october.input_tokens == MAX_SUM - 50 and october.records == 2
        assert MonthlyUsage.objects.get(month=date(2026, 11, 1)).input_tokens == 100
