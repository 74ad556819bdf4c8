"""Issue 13, items 2 and 3 for usage: numbers that cannot fit are refused per row, never crash a file,
and every file ends in a terminal state with a message naming line and field."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django_scopes import scope

from apps.core.ceilings import MAX_CALLS_PER_ROW, MAX_SUM, MAX_TOKENS_PER_ROW
from apps.usage.models import DailyDetailUsage, DailyUsage, UsageRecord
from apps.usage.services import ingest as ingest_service

from .test_ingest import SONNET_EVENT_NANO, event, ingest, ndjson

pytestmark = pytest.mark.django_db(transaction=False)


def errors_of(job, org) -> list[tuple]:
    with scope(organization=org):
        return list(job.errors.order_by("line").values_list("line", "field", "message"))


def stored_ids(org) -> list[str]:
    with scope(organization=org):
        return sorted(UsageRecord.objects.values_list("request_id", flat=True))


def with_tokens(rid: str, **usage) -> dict:
    base = event(rid)
    return event(rid, usage={**base["usage"], **usage})


@pytest.mark.parametrize("strict_lane", [True, False])
def test_a_token_count_of_ten_to_the_eighteen_is_refused_at_the_door(catalog, strict_lane):
    """It used to pass the validator and overflow a 64-bit cost column later. Both NDJSON lanes (the
    typed fast lane and the general one) refuse it with the ceiling in the message."""
    org = catalog.org("a")
    huge = with_tokens("huge", input_tokens=10**18)
    if not strict_lane:
        huge["usage"]["output_tokens"] = "350"  # a number as a string: the general path
    at_ceiling = with_tokens("ceiling", input_tokens=MAX_TOKENS_PER_ROW, output_tokens=0, cache_read_tokens=0)
    job = ingest(org, ndjson(event("ok1"), huge, at_ceiling, event("ok2")))
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 3, 1)
    assert errors_of(job, org) == [
        (2, "usage.input_tokens", "is 1,000,000,000,000,000,000, above the ceiling of 1,000,000,000,000 per row")
    ]
    assert stored_ids(org) == ["ceiling", "ok1", "ok2"]
    with scope(organization=org):
        # 10**12 input tokens at $3/M: exactly $3,000,000, an int in nano-units on every engine.
        ceiling = UsageRecord.objects.get(request_id="ceiling")
        assert ceiling.cost_input_nano == 6_000_000 * 10**9 and isinstance(ceiling.cost_input_nano, int)


def test_every_count_and_amount_has_its_ceiling_in_csv_and_json_too(catalog):
    org = catalog.org("a")
    header = "request_id,occurred_at,provider,model,input_tokens,tool:web_search,cost,tag:team\n"
    body = (
        header
        + "c1,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,1,,search\n"
        + f"c2,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,{MAX_CALLS_PER_ROW + 1},,search\n"
        + "c3,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,0,1000000001,search\n"
        + "c4,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,0,-1E+30,search\n"
    )
    job = ingest(org, body.encode(), name="usage.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 1, 3)
    assert errors_of(job, org) == [
        (3, "tool_calls.web_search", "is 1,000,000,001, above the ceiling of 1,000,000,000 per row"),
        (4, "cost", "is 1000000001, beyond the ceiling of 1,000,000,000 currency units per row"),
        (5, "cost", "is -1E+30, beyond the ceiling of 1,000,000,000 currency units per row"),
    ]
    array = json.dumps([event("j1"), event("j2", tool_calls={"web_search": 10**12})]).encode()
    job = ingest(org, array, name="usage.json")
    assert (job.accepted, job.rejected) == (1, 1)
    assert errors_of(job, org)[0][:2] == (2, "tool_calls.web_search")


def test_a_price_book_cost_beyond_the_row_ceiling_is_refused(catalog, monkeypatch):
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "MAX_AMOUNT_NANO_PER_ROW", SONNET_EVENT_NANO - 1)
    cheap = with_tokens("cheap", input_tokens=1, output_tokens=0, cache_read_tokens=0)
    job = ingest(org, ndjson(event("dear"), cheap))
    assert (job.accepted, job.rejected) == (1, 1)
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (1, "usage")
    assert message.startswith("its price-book cost (0.021250000 USD) is beyond the ceiling")


def _cell_near_the_limit(org, *, headroom: int) -> DailyUsage:
    """Ingest one event, then move its cube cell's input_tokens to MAX_SUM - headroom."""
    ingest(org, ndjson(with_tokens("seed", input_tokens=1)))
    with scope(organization=org):
        cell = DailyUsage.objects.get()
        DailyUsage.objects.filter(pk=cell.pk).update(input_tokens=MAX_SUM - headroom)
        return cell


def test_a_row_that_would_overflow_a_cube_cell_is_refused_and_the_rest_kept(catalog):
    """On SQLite the cell used to turn silently into a float; on PostgreSQL the bigint overflow failed
    the file and every later file touching the cell."""
    org = catalog.org("a")
    cell = _cell_near_the_limit(org, headroom=150)
    other_day = with_tokens("next-day", input_tokens=100)
    other_day["occurred_at"] = "2026-10-04T09:00:00Z"
    body = ndjson(
        with_tokens("fits", input_tokens=100),
        with_tokens("overflows", input_tokens=100),
        other_day,
    )
    job = ingest(org, body)
    assert (job.status, job.accepted, job.duplicates, job.rejected, job.rows_total) == ("succeeded", 2, 0, 1, 3)
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (2, "usage")
    assert message == (
        "adding this row would take the 2026-10-03 total of anthropic claude-sonnet-4-5 (input_tokens) beyond "
        "the largest sum that can be stored (9,223,372,036,854,775,807); the row is refused"
    )
    assert stored_ids(org) == ["fits", "next-day", "seed"]
    with scope(organization=org):
        cell.refresh_from_db()
        assert cell.input_tokens == MAX_SUM - 50 and isinstance(cell.input_tokens, int)
        assert cell.records == 2
        assert DailyUsage.objects.exclude(pk=cell.pk).get().input_tokens == 100
    with connection.cursor() as cursor:  # the stored value is an integer, not a float, on every engine
        cursor.execute("SELECT input_tokens FROM usage_dailyusage WHERE id = %s", [cell.pk])
        assert cursor.fetchone()[0] == MAX_SUM - 50
    # The next file touching the cell is not stuck: rows that fit go in.
    later = ingest(org, ndjson(with_tokens("later", input_tokens=50)))
    assert (later.status, later.accepted, later.rejected) == ("succeeded", 1, 0)


def test_a_detail_cell_is_checked_too(catalog):
    org = catalog.org("a")
    ingest(org, ndjson(with_tokens("seed", input_tokens=1)))
    with scope(organization=org):
        DailyDetailUsage.objects.update(output_tokens=MAX_SUM - 400)
    job = ingest(org, ndjson(event("a"), event("b")))  # 350 output tokens each, same customer
    assert (job.accepted, job.rejected) == (1, 1)
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (2, "usage")
    assert "the 2026-10-03 total of customer cust_042 (output_tokens)" in message
    with scope(organization=org):
        assert DailyDetailUsage.objects.get().output_tokens == MAX_SUM - 50


def test_a_database_cannot_be_made_to_hold_a_float_sum(catalog):
    """The CHECK constraint (SQLite) or bigint range (PostgreSQL) refuses an overflowing cube update."""
    from django.db import DataError, IntegrityError

    org = catalog.org("a")
    cell = _cell_near_the_limit(org, headroom=1)
    refused = pytest.raises((IntegrityError, DataError))
    with scope(organization=org), refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE usage_dailyusage SET input_tokens = input_tokens + 5 WHERE id = %s", [cell.pk])


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("9999-12-31T00:00:00Z", "is 9999-12-31 00:00 UTC, more than 24 hours ahead of now"),
        ("2014-12-31T23:59:59Z", "is 2014-12-31, before 2015-01-01, the earliest date accepted"),
        (1, "is 1970-01-01, before 2015-01-01, the earliest date accepted"),
    ],
)
def test_implausible_timestamps_are_refused_per_row(catalog, occurred_at, message):
    org = catalog.org("a")
    job = ingest(org, ndjson(event("ok"), event("odd", occurred_at=occurred_at)))
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 1, 1)
    assert errors_of(job, org) == [(2, "occurred_at", message)]


def test_the_timestamp_window_is_a_setting(catalog, settings):
    org = catalog.org("a")
    settings.INGEST_EARLIEST_DATE = "2026-10-04"
    settings.INGEST_MAX_FUTURE_HOURS = 0
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    job = ingest(org, ndjson(event("early"), event("soon", occurred_at=soon), event("ok", occurred_at="2026-10-05")))
    assert [(line, field) for line, field, _ in errors_of(job, org)] == [(1, "occurred_at"), (2, "occurred_at")]
    assert stored_ids(org) == ["ok"]


def test_a_csv_field_over_the_csv_modules_limit_is_a_row_error(catalog):
    """It used to fail the whole job with the csv module's words."""
    org = catalog.org("a")
    header = "request_id,occurred_at,provider,model,input_tokens,tag:team\n"
    body = (
        header
        + "c1,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,search\n"
        + "c2,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,"
        + "x" * 200_000
        + "\n"
        + "c3,2026-10-03T10:00:00Z,anthropic,claude-sonnet-4-5,10,search\n"
    )
    job = ingest(org, body.encode(), name="usage.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 2, 1)
    assert errors_of(job, org) == [(3, "(row)", "a field is longer than 131,072 characters; the row is refused")]
    assert stored_ids(org) == ["c1", "c3"]


def test_an_unexpected_error_fails_the_job_with_where_it_happened(catalog, monkeypatch):
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 2)
    real = ingest_service._commit_chunk
    calls = []

    def broken_second_chunk(context, chunk):
        calls.append(chunk.last_line)
        if len(calls) == 2:
            raise ValueError("the disk is full")
        return real(context, chunk)

    monkeypatch.setattr(ingest_service, "_commit_chunk", broken_second_chunk)
    with pytest.raises(ValueError):
        ingest(org, ndjson(*(event(f"r{i}") for i in range(5))))
    with scope(organization=org):
        job = ingest_service.IngestJob.objects.get()
    assert job.status == "failed"
    assert job.error_message == (
        "an unexpected error (ValueError: the disk is full), while storing lines 3-4. "
        "Lines stored before this are kept; Retry resumes after them."
    )
    assert stored_ids(org) == ["r0", "r1"]


def test_through_the_api_a_huge_count_is_a_row_error_and_the_job_succeeds(
    catalog, django_capture_on_commit_callbacks, eager_celery
):
    from django.urls import reverse

    api = catalog.api("a", scopes=["usage:write"])
    body = ndjson(event("ok"), with_tokens("huge", input_tokens=10**18), event("late", occurred_at="9999-12-31"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:usage-job-list"), body, content_type="application/x-ndjson")
    assert response.status_code == 202
    job = api.get(reverse("api:usage-job-detail", kwargs={"pk": response.json()["id"]})).json()
    assert (job["status"], job["accepted"], job["rejected"]) == ("succeeded", 1, 2)
    errors = api.get(reverse("api:usage-job-errors", kwargs={"pk": job["id"]})).json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "usage.input_tokens"), (3, "occurred_at")]


def test_the_fast_path_reads_no_cells_unless_a_sum_overflows(catalog, monkeypatch):
    """The checked re-write (which reads the touched cells first) runs only after the database refused an
    overflow, so an ordinary file pays one savepoint per chunk and nothing more."""
    from apps.usage import writer

    org = catalog.org("a")
    calls = []
    real_admit = writer._admit
    monkeypatch.setattr(writer, "_admit", lambda *a, **k: calls.append(1) or real_admit(*a, **k))
    job = ingest(org, ndjson(*(event(f"r{i}") for i in range(5))))
    assert (job.accepted, calls) == (5, [])
    with scope(organization=org):
        DailyUsage.objects.update(input_tokens=MAX_SUM - 10)
    job = ingest(org, ndjson(event("one-more")))
    assert (job.accepted, job.rejected, calls) == (0, 1, [1])
