"""Tagging health and the periods board's usage months read the cube and the detail totals, never the raw
usage table, and show the same figures the raw rows give."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from apps.tenancy.roles import Role
from apps.usage.models import UsageRecord
from apps.usage.selectors import has_usage_in, months_with_usage
from tests.usage.test_ingest import event, ingest, ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage(catalog):
    """Alpha: 6 requests over September, October and December 2026 (none in November): 4 with a
    customer, 1 without a feature, 1 without a team."""
    tags = event()["tags"]
    events = [
        event("s1", occurred_at="2026-09-30T23:59:59Z"),
        event("o1", occurred_at="2026-10-01T00:00:00Z", tags={**tags, "customer": "cust_7"}),
        event("o2", occurred_at="2026-10-14T10:00:00Z", tags={k: v for k, v in tags.items() if k != "feature"}),
        event("o3", occurred_at="2026-10-15T10:00:00Z", tags={k: v for k, v in tags.items() if k != "customer"}),
        event("d1", occurred_at="2026-12-02T10:00:00Z", tags={k: v for k, v in tags.items() if k != "team"}),
        event("d2", occurred_at="2026-12-03T10:00:00Z", tags={k: v for k, v in tags.items() if k != "customer"}),
    ]
    ingest(catalog.org("a"), ndjson(*events))
    ingest(catalog.org("b"), ndjson(event("b1", occurred_at="2026-11-10T10:00:00Z")))
    return catalog


def raw_periods(organization) -> set[date]:
    """What the board's months were before: every distinct usage day, by the fiscal calendar."""
    from apps.core.calendar import period_of_day

    with scope(organization=organization):
        days = set(UsageRecord.objects.values_list("day", flat=True))
    return {period_of_day(day, start_day=organization.period_start_day) for day in days}


def test_board_months_are_the_raw_rows_months_with_gaps(usage):
    alpha = usage.org("a")
    months = months_with_usage(organization=alpha)
    assert months == raw_periods(alpha) == {date(2026, 9, 1), date(2026, 10, 1), date(2026, 12, 1)}
    assert months_with_usage(organization=usage.org("b")) == {date(2026, 11, 1)}
    assert has_usage_in(organization=alpha, period=date(2026, 11, 1)) is False


def test_board_months_follow_a_fiscal_start_day(usage):
    alpha = usage.org("a")
    alpha.period_start_day = 15
    alpha.save(update_fields=["period_start_day"])
    # 30 Sep and 1-14 Oct are in the period named September; 15 Oct in October; 2-3 Dec in November
    assert months_with_usage(organization=alpha) == raw_periods(alpha)
    assert months_with_usage(organization=alpha) == {date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)}


def test_tagging_health_counts_a_months_requests_from_the_rollups(usage):
    client = usage.login("a", Role.FINANCE_ANALYST)
    url = reverse("usage:tagging_health", kwargs={"org_slug": "alpha"})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "usage_usagerecord" in q["sql"]]
    # By default the month of the latest usage: December (d1 without a team, d2 without a customer)
    assert response.context["month"] == date(2026, 12, 1)
    rows = {row.key: (row.counted, row.missing) for row in response.context["rows"]}
    assert (rows["team"], rows["feature"], rows["workspace"], rows["customer"]) == ((2, 1), (2, 0), (2, 0), (2, 1))
    # October: o1 and o2 carry a customer (a detail dimension, counted from its daily totals), o3 does not
    october = client.get(url, {"month": "2026-10"})
    rows = {row.key: (row.counted, row.missing) for row in october.context["rows"]}
    assert (rows["team"], rows["feature"], rows["workspace"], rows["customer"]) == ((3, 0), (3, 1), (3, 0), (3, 1))
    # A month without usage, and a month that is not one, which shows the default
    assert {row.counted for row in client.get(url, {"month": "2026-11"}).context["rows"]} == {0}
    assert client.get(url, {"month": "2026-13"}).context["month"] == date(2026, 12, 1)


def test_explorer_opens_on_the_latest_month_and_keeps_a_chosen_period(usage):
    client = usage.login("a", Role.FINANCE_ANALYST)
    url = reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    assert client.get(url).context["totals"]["requests"] == 2
    assert client.get(url, {"month": "2026-10"}).context["totals"]["requests"] == 3
    assert client.get(url, {"date_from": "2026-09-01", "date_to": "2026-12-31"}).context["totals"]["requests"] == 6


def test_the_periods_board_reads_no_raw_usage(usage):
    client = usage.login("a", Role.FINANCE_ADMIN)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("periods:board", kwargs={"org_slug": "alpha"}))
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "usage_usagerecord" in q["sql"]]


@pytest.mark.parametrize("group_by", ["team", "feature", "customer", "provider", "day"])
def test_explorer_totals_equal_a_sum_of_the_cube(usage, group_by):
    from apps.usage.selectors import UsageFilter, daily_detail_usage, daily_usage, usage_totals

    response = usage.login("a", Role.FINANCE_ANALYST).get(
        reverse("usage:explorer", kwargs={"org_slug": "alpha"}),
        {"date_from": "2026-09-01", "date_to": "2026-12-31", "group_by": group_by},
    )
    period = UsageFilter(date_from=date(2026, 9, 1), date_to=date(2026, 12, 31))
    with scope(organization=usage.org("a")):
        if group_by == "customer":  # read from the customer totals: the 4 requests that carry one
            rows = daily_detail_usage(
                organization=usage.org("a"), usage_filter=period, team_values=None, dimension="customer"
            )
        else:
            rows = daily_usage(organization=usage.org("a"), usage_filter=period, team_values=None)
        expected = usage_totals(rows, organization=usage.org("a"))
    assert response.context["totals"] == expected
    assert expected["requests"] == (4 if group_by == "customer" else 6)
