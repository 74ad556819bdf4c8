"""The chunk writer and the fast lanes in front of it: what they store must be what the general path
stores, byte for byte, on SQLite and on PostgreSQL (where rows go through COPY's text format)."""

import io
import json
import threading

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.ingest.rows import RowProblem, json_loads
from apps.taxonomy.models import TagSet
from apps.usage.models import DailyDetailUsage, DailyUsage, IngestJob, UsageRecord
from apps.usage.parsers.base import MODALITY_FIELDS, TOKEN_FIELDS
from apps.usage.parsers.canonical import _strict_event, event_from_object, read_ndjson
from apps.usage.pipeline import run_ahead
from apps.usage.services import ingest as ingest_service

from .test_ingest import SONNET_EVENT_NANO, counts, event, ingest, ndjson

pytestmark = pytest.mark.django_db


def test_awkward_characters_survive_the_copy_format(catalog):
    """Tabs, backslashes, newlines and quotes are COPY's and JSON's special characters."""
    org = catalog.org("a")
    awkward = event(
        "req\twith\\odd\nchars",
        trace_id='tr "quoted" \\ back\tslash',
        model="claude-sonnet-4-5",
        tags={**event()["tags"], "customer": 'cust\\042\t"x"', "team": "search"},
        tool_calls={"web_search": 2},
    )
    job = ingest(org, ndjson(awkward))
    assert (job.accepted, job.rejected) == (1, 0)
    with scope(organization=org):
        record = UsageRecord.objects.get()
        detail = DailyDetailUsage.objects.get()
    assert record.request_id == "req\twith\\odd\nchars"
    assert record.trace_id == 'tr "quoted" \\ back\tslash'
    assert record.detail_tags == {"customer": 'cust\\042 "x"'}  # inner whitespace collapses to one space
    assert record.tool_calls_detail == {"web_search": 2}
    assert (detail.value, detail.team, detail.requests) == ('cust\\042 "x"', "search", 1)
    # Re-ingesting it is a duplicate, found by the same key.
    again = ingest(org, ndjson(awkward))
    assert (again.accepted, again.duplicates) == (0, 1)


def test_a_nul_character_is_a_row_error_not_a_failed_job(catalog):
    org = catalog.org("a")
    bad_id = event("req\u0000x")
    bad_tag = event("r2", tags={**event()["tags"], "team": "sea\u0000rch"})
    job = ingest(org, ndjson(event("r1"), bad_id, bad_tag))
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 1, 2)
    with scope(organization=org):
        errors = list(job.errors.order_by("line").values_list("line", "field"))
    assert errors == [(2, "request_id"), (3, "tags")]


def test_a_chunk_meeting_stored_rows_falls_back_and_counts_exactly(catalog, monkeypatch):
    """First chunk new, second overlapping, third new again: the optimistic COPY gives way to the
    ON CONFLICT path for the overlapping chunk and the job keeps counting right."""
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 4)
    ingest(org, ndjson(*(event(f"old{i}") for i in range(3))))
    body = ndjson(
        *(event(f"a{i}") for i in range(4)),
        event("old0"),
        event("b0"),
        event("old2"),
        event("b1"),
        *(event(f"c{i}") for i in range(4)),
    )
    job = ingest(org, body)
    assert (job.accepted, job.duplicates, job.rejected, job.rows_total) == (10, 2, 0, 12)
    assert job.estimated_nano == 10 * SONNET_EVENT_NANO
    assert counts(org) == (13, 13, 13 * SONNET_EVENT_NANO)
    with scope(organization=org):
        assert sum(DailyDetailUsage.objects.values_list("requests", flat=True)) == 13


def test_references_without_database_constraints_still_hold(catalog):
    """UsageRecord's foreign keys are not enforced by the database (see the model): every record
    points at a real organisation, job and tag set, and the ORM still applies on_delete."""
    org = catalog.org("a")
    job = ingest(org, ndjson(event("r1"), event("r2", tags={"team": "support"})))
    with scope(organization=org):
        records = list(UsageRecord.objects.all())
        assert len(records) == 2
        assert {r.organization_id for r in records} == {org.pk}
        assert {r.job_id for r in records} == {job.pk}
        tagset_ids = {r.tagset_id for r in records}
        assert TagSet.objects.filter(pk__in=tagset_ids).count() == 2
        # PROTECT: a tag set in use cannot be deleted.
        with pytest.raises(ProtectedError):
            TagSet.objects.filter(pk__in=tagset_ids).delete()
        # SET_NULL: deleting the job keeps the usage.
        IngestJob.objects.filter(pk=job.pk).delete()
        assert set(UsageRecord.objects.values_list("job_id", flat=True)) == {None}


# --- the fast lane for well-formed NDJSON --------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30)
_count = st.integers(min_value=0, max_value=10**12)
_events = st.fixed_dictionaries(
    {
        "request_id": _text,
        "occurred_at": st.sampled_from(
            ["2026-10-03T14:22:05Z", "2026-10-03T14:22:05+02:00", "2026-10-03 14:22:05", "2026-10-03T14:22:05.5Z"]
        ),
        "provider": st.sampled_from(["anthropic", "OpenAI", " google "]),
        "model": _text,
    },
    optional={
        "service_tier": st.sampled_from(["standard", "batch", "Priority", "default", "scale", None]),
        "tags": st.dictionaries(st.sampled_from(["team", "Feature", "customer", "env"]), _text, max_size=4),
        "usage": st.fixed_dictionaries({}, optional=dict.fromkeys((*TOKEN_FIELDS, *MODALITY_FIELDS), _count)),
        "context_window": st.sampled_from(["0-200k", "200k-1M", "200K-1m", "1M+", None]),
        "region_scope": st.sampled_from(["", "global", "regional", "Global", "moon", None]),
        "tool_calls": st.dictionaries(st.sampled_from(["web_search", "Code Exec"]), _count, max_size=2),
        "is_retry": st.booleans() | st.none(),
        "is_batch": st.booleans(),
        "trace_id": _text | st.none(),
        "cost": st.decimals(min_value=0, max_value=1000, places=9).map(str) | st.none(),
    },
)


def _general(line: bytes):
    try:
        return event_from_object(json_loads(line), 1)
    except RowProblem as problem:
        return ("error", problem.field)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_events)
def test_the_fast_lane_reads_what_the_general_path_reads(obj):
    line = json.dumps(obj).encode()
    try:
        fast = _strict_event(line, 1)
    except RowProblem as problem:
        fast = ("error", problem.field)
    general = _general(line)
    if fast is None:  # the fast lane declined: fine, the general path decides
        return
    if isinstance(fast, tuple):  # the fast lane found a problem: read_ndjson lets the general path word it
        assert isinstance(general, tuple)
        return
    assert fast == general


def test_a_well_formed_line_takes_the_fast_lane_and_reads_the_same():
    line = json.dumps(event(cost="0.0123456789", service_tier="batch", is_retry=True)).encode()
    fast = _strict_event(line, 7)
    assert fast is not None
    assert fast == event_from_object(json_loads(line), 7)
    assert (fast.line, fast.is_batch, fast.is_retry, str(fast.gateway_cost)) == (7, True, True, "0.0123456789")
    assert fast.occurred_at.tzinfo is not None and fast.input_tokens == 1200


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            b'{"request_id": "r", "occurred_at": "2026-10-03T14:22:05Z", "provider": "openai", "model": "gpt-4o",'
            b' "usage": {"input_tokens": "12"}}',
            12,
        ),  # a number as a string: the general path accepts it
        (
            b'{"request_id": 42, "occurred_at": "2026-10-03T14:22:05Z", "provider": "openai", "model": "gpt-4o",'
            b' "usage": {"input_tokens": 12.0}}',
            12,
        ),
    ],
)
def test_lenient_lines_still_go_through_the_general_path(line, expected):
    assert _strict_event(line, 1) is None
    (item,) = list(read_ndjson(io.BytesIO(line)))
    assert item.input_tokens == expected


def test_negative_counts_are_worded_by_the_general_path():
    line = (
        b'{"request_id": "r", "occurred_at": "2026-10-03T14:22:05Z", "provider": "openai", "model": "gpt-4o",'
        b' "usage": {"input_tokens": -3}}'
    )
    (item,) = list(read_ndjson(io.BytesIO(line)))
    assert (item.line, item.field, item.message) == (1, "usage.input_tokens", "must not be negative, got -3")


# --- the reader running ahead in a thread --------------------------------------------------------


def test_run_ahead_yields_everything_in_order_and_bounded():
    produced = []

    def numbers():
        for n in range(50):
            produced.append(n)
            yield n

    seen = []
    for n in run_ahead(numbers(), depth=2):
        seen.append(n)
        # the producer is never more than depth + 1 (one in hand) items ahead
        assert len(produced) - len(seen) <= 3
    assert seen == list(range(50))


def test_run_ahead_raises_the_producers_exception_here():
    def failing():
        yield 1
        raise ValueError("line 2 is broken")

    items = run_ahead(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="line 2 is broken"):
        next(items)


def test_stopping_early_stops_the_producer_and_closes_it():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    items = run_ahead(endless(), name="test-endless")
    assert [next(items) for _ in range(3)] == [1, 2, 3]
    items.close()
    assert closed.wait(5)
    assert not any(t.name == "test-endless" and t.is_alive() for t in threading.enumerate())


def test_chunk_size_follows_the_file(monkeypatch):
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", None)
    assert ingest_service._chunk_lines(100) == ingest_service.MIN_CHUNK_LINES
    assert ingest_service._chunk_lines(200_000) == 10_000
    assert ingest_service._chunk_lines(10_000_000) == ingest_service.MAX_CHUNK_LINES


def test_a_crash_in_the_writer_stops_the_reader_and_keeps_committed_chunks(catalog, monkeypatch):
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 2)
    with transaction.atomic():
        job, _ = ingest_service.ingest_job_create(
            organization=org,
            actor=None,
            file_name="x.ndjson",
            stream=io.BytesIO(ndjson(*(event(f"k{i}") for i in range(9)))),
            format="ndjson",
            channel="command",
            enqueue=False,
        )
    real = ingest_service._commit_chunk
    calls = []

    def crash_second(context, chunk):
        calls.append(chunk.last_line)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(context, chunk)

    monkeypatch.setattr(ingest_service, "_commit_chunk", crash_second)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_service.ingest_job_run(job_id=job.pk)
    assert not any(t.name == f"ingest-{job.pk}-reader" and t.is_alive() for t in threading.enumerate())
    with scope(organization=org):
        job.refresh_from_db()
        assert (job.status, job.lines_done, job.accepted, UsageRecord.objects.count()) == ("failed", 2, 2, 2)
        assert DailyUsage.objects.get().records == 2


def test_values_postgresql_cannot_store_are_row_errors(catalog):
    """Each of these used to fail the whole job (and every retry) at the database."""
    org = catalog.org("a")
    lines = [
        json.dumps(event("ok1")),
        json.dumps(event("tool", tool_calls={"web\u0000search": 1})),
        json.dumps(event("surrogate\ud800")),
        json.dumps(event("early", occurred_at="0001-01-01T00:00:00+05:00")),
        json.dumps(event("huge", usage={"input_tokens": 2**63})),
        json.dumps(event("rich", cost="1E+400")),
        json.dumps(event("long-model", model="m" * 121)),
        json.dumps(event("tag-surrogate", tags={"team": "search", "customer": "c\udc00"})),
        json.dumps(event("ok2")),
    ]
    job = ingest(org, "\n".join(lines).encode() + b"\n")  # json.dumps writes surrogates as \\u escapes
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 2, 7)
    with scope(organization=org):
        errors = list(job.errors.order_by("line").values_list("line", "field"))
        assert sorted(UsageRecord.objects.values_list("request_id", flat=True)) == ["ok1", "ok2"]
    assert errors == [
        (2, "tool_calls.'web\\x00search'"),
        (3, "request_id"),
        (4, "occurred_at"),
        (5, "usage.input_tokens"),
        (6, "cost"),
        (7, "model"),
        (8, "tags"),
    ]


def test_overlapping_runs_restore_the_switch_interval_once_all_are_done():
    import sys

    before = sys.getswitchinterval()
    first = run_ahead(iter(range(3)))
    second = run_ahead(iter(range(3)))
    assert next(first) == 0 and next(second) == 0
    assert sys.getswitchinterval() < before
    first.close()  # the first to start finishes first
    assert sys.getswitchinterval() < before  # the second still runs
    second.close()
    assert sys.getswitchinterval() == before
