"""The request list (usage:records): one month at a time, keyset pages newest first on (occurred_at, id),
no COUNT and no OFFSET, signed cursors that only work for the page and organisation that made them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from apps.core.keyset import InvalidCursor, decode_cursor, encode_cursor
from apps.tenancy.roles import Role
from apps.usage import views as usage_views
from tests.usage.test_ingest import event, ingest, ndjson

pytestmark = pytest.mark.django_db


def url(key="alpha"):
    return reverse("usage:records", kwargs={"org_slug": key})


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [r.request_id for r in response.context["page"]]


def walk(client, params, direction="older_cursor"):
    """Every page from the first, following one direction; the request ids page by page."""
    pages = []
    response = client.get(url(), params)
    while True:
        pages.append(ids(response))
        cursor = getattr(response.context["page"], direction)
        if not cursor:
            return pages, response
        response = client.get(url(), {**params, "cursor": cursor})


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(usage_views, "RECORDS_PAGE_SIZE", 3)


@pytest.fixture
def october(catalog):
    """Alpha: 8 requests in October 2026, three of them in the same second (ties broken by id), one at the
    last second of the month and one at the first of November; two of them for customer cust_7 and one from
    the marketing team. Beta: one request in the same second as alpha's ties."""
    events = [
        event("a01", occurred_at="2026-10-01T00:00:00Z"),
        event("a02", occurred_at="2026-10-05T09:00:00Z"),
        event("a03", occurred_at="2026-10-10T12:00:00Z"),
        event("a04", occurred_at="2026-10-10T12:00:00Z"),
        event("a05", occurred_at="2026-10-10T12:00:00Z"),
        event("a06", occurred_at="2026-10-20T08:30:00Z", tags={**event()["tags"], "customer": "cust_7"}),
        event("a07", occurred_at="2026-10-25T08:30:00Z", tags={**event()["tags"], "team": "marketing"}),
        event("a08", occurred_at="2026-10-31T23:59:59Z", tags={**event()["tags"], "customer": "cust_7"}),
        event("n01", occurred_at="2026-11-01T00:00:00Z"),
    ]
    ingest(catalog.org("a"), ndjson(*events))
    ingest(catalog.org("b"), ndjson(event("b01", occurred_at="2026-10-10T12:00:00Z")))
    return catalog


def test_pages_newest_first_ties_by_id_and_back(october, small_pages):
    client = october.login("a", Role.FINANCE_ANALYST)
    pages, last = walk(client, {"month": "2026-10"})
    # a03..a05 share a second: the larger id (stored later) comes first, and no row repeats or goes missing
    assert pages == [["a08", "a07", "a06"], ["a05", "a04", "a03"], ["a02", "a01"]]
    assert last.context["page"].older_cursor is None
    # Newer from the last page walks back through the same pages
    back = []
    response = last
    while cursor := response.context["page"].newer_cursor:
        response = client.get(url(), {"month": "2026-10", "cursor": cursor})
        back.append(ids(response))
    assert back == [["a05", "a04", "a03"], ["a08", "a07", "a06"]]
    assert response.context["page"].newer_cursor is None


def test_month_boundaries_are_utc_days(october):
    client = october.login("a", Role.FINANCE_ANALYST)
    assert ids(client.get(url(), {"month": "2026-11"})) == ["n01"]
    assert ids(client.get(url(), {"date_from": "2026-10-31", "date_to": "2026-10-31"})) == ["a08"]
    assert ids(client.get(url(), {"date_from": "2026-10-01", "date_to": "2026-10-01"})) == ["a01"]
    # Only a start date: the rest of its month
    assert ids(client.get(url(), {"date_from": "2026-10-25"})) == ["a08", "a07"]


def test_opens_on_the_month_of_the_latest_usage(october):
    client = october.login("a", Role.FINANCE_ANALYST)
    response = client.get(url())
    assert ids(response) == ["n01"]
    assert (str(response.context["date_from"]), str(response.context["date_to"])) == ("2026-11-01", "2026-11-30")
    assert response.context["earlier_month"] == "2026-10"


def test_a_range_longer_than_a_month_is_cut_to_its_last_31_days(october):
    response = october.login("a", Role.FINANCE_ANALYST).get(url(), {"date_from": "2026-01-01", "date_to": "2026-10-31"})
    assert ids(response) == ["a08", "a07", "a06", "a05", "a04", "a03", "a02", "a01"]
    assert str(response.context["date_from"]) == "2026-10-01"
    assert "at most 31 days" in response.context["note"]


def test_filters_apply_inside_the_month_and_across_pages(october, small_pages):
    client = october.login("a", Role.FINANCE_ANALYST)
    assert walk(client, {"month": "2026-10", "tag_customer": "cust_7"})[0] == [["a08", "a06"]]
    assert walk(client, {"month": "2026-10", "tag_team": "marketing"})[0] == [["a07"]]
    search = walk(client, {"month": "2026-10", "tag_team": "search"})[0]
    assert search == [["a08", "a06", "a05"], ["a04", "a03", "a02"], ["a01"]]
    assert walk(client, {"month": "2026-10", "provider": "openai"})[0] == [[]]


def test_another_organisations_rows_never_appear(october):
    alpha = october.login("a", Role.FINANCE_ANALYST)
    beta = october.login("b", Role.FINANCE_ANALYST)
    assert "b01" not in ids(alpha.get(url(), {"month": "2026-10"}))
    assert ids(beta.get(url("beta"), {"month": "2026-10"})) == ["b01"]


def test_a_forged_or_foreign_cursor_is_refused(october, small_pages):
    from apps.usage.models import UsageRecord

    alpha = october.login("a", Role.FINANCE_ANALYST)
    beta = october.login("b", Role.FINANCE_ANALYST)
    alpha_cursor = alpha.get(url(), {"month": "2026-10"}).context["page"].older_cursor
    # Alpha's cursor in beta's list: signed for alpha, refused
    refused = beta.get(url("beta"), {"month": "2026-10", "cursor": alpha_cursor})
    assert refused.status_code == 400
    assert b"b01" not in refused.content
    # A cursor edited by hand, or made up, is refused too
    assert alpha.get(url(), {"month": "2026-10", "cursor": alpha_cursor[:-2] + "xx"}).status_code == 400
    assert alpha.get(url(), {"month": "2026-10", "cursor": "not-a-cursor"}).status_code == 400
    # A validly signed cursor pointing just past beta's row still lists only alpha's rows
    with scope(organization=october.org("b")):
        beta_row = UsageRecord.objects.filter(request_id="b01").values("occurred_at", "id").get()
    aimed = encode_cursor(
        when=beta_row["occurred_at"], pk=beta_row["id"] + 1, direction="o", salt=f"usage.records:{october.org('a').pk}"
    )
    assert set(ids(alpha.get(url(), {"month": "2026-10", "cursor": aimed}))) <= {"a01", "a02", "a03", "a04", "a05"}


def test_cursor_decoding_checks_salt_and_shape():
    from datetime import UTC, datetime

    when = datetime(2026, 10, 10, 12, tzinfo=UTC)
    cursor = encode_cursor(when=when, pk=7, direction="o", salt="s1")
    assert decode_cursor(cursor, salt="s1") == (when, 7, "o")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, salt="s2")


def test_the_list_issues_no_count_and_no_offset(october, small_pages):
    finance = october.login("a", Role.FINANCE_ANALYST)
    first = finance.get(url(), {"month": "2026-10"})
    cursor = first.context["page"].older_cursor
    for who, params in (
        (finance, {"month": "2026-10"}),
        (finance, {"month": "2026-10", "cursor": cursor}),
        (finance, {"month": "2026-10", "tag_customer": "cust_7"}),
        (finance, {}),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert who.get(url(), params).status_code == 200
        usage_queries = [q["sql"] for q in queries.captured_queries if "usage_usagerecord" in q["sql"]]
        assert usage_queries, "the list read no usage rows"
        for sql in (q["sql"] for q in queries.captured_queries):
            assert not re.search(r"\bCOUNT\s*\(", sql, re.IGNORECASE), sql
            assert not re.search(r"\bOFFSET\b", sql, re.IGNORECASE), sql
        # The raw table is read once, bounded by the month's days and a LIMIT of one page and one more row
        assert len(usage_queries) == 1
        assert re.search(r"LIMIT 4\b", usage_queries[0]), usage_queries[0]
        assert "occurred_at" in usage_queries[0] and '"day" >=' in usage_queries[0]
