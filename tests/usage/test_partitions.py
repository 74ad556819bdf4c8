"""The partitioned usage table (issue 22): the idempotency rule (organisation, source, request id, UTC day), the
writer's duplicate path without relying on the error class, months made ahead and by the writer, pruning."""

import io
import json
from datetime import date

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django_scopes import scope

from apps.tenancy.distribution import citus_version
from apps.usage import partitions
from apps.usage.models import DailyUsage, IngestJob, UsageRecord
from apps.usage.selectors import UsageFilter, usage_records
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from apps.usage.tasks import create_usage_partitions

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="partitions are PostgreSQL's")


def _event(request_id: str, occurred_at: str, *, input_tokens: int = 1000) -> dict:
    return {
        "request_id": request_id,
        "occurred_at": occurred_at,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "tags": {"team": "search", "feature": "f", "workspace": "w", "environment": "prod"},
        "usage": {"input_tokens": input_tokens, "output_tokens": 10},
    }


def _ingest(organization, events: list[dict], name: str = "events.ndjson") -> IngestJob:
    body = "".join(json.dumps(event) + "\n" for event in events).encode()
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name=name,
            stream=io.BytesIO(body),
            format="ndjson",
            channel=IngestJob.Channel.COMMAND,
            enqueue=False,
        )
    return ingest_job_run(job_id=job.pk)


def _stored(organization) -> list[tuple]:
    with scope(organization=organization):
        return list(UsageRecord.objects.order_by("request_id", "day").values_list("request_id", "day", "input_tokens"))


def test_a_replay_is_a_duplicate_and_the_same_request_id_on_another_day_is_another_event(world, price_book):
    organization = world.org("a")
    events = [
        _event("req-1", "2026-10-05T23:59:59Z"),
        _event("req-2", "2026-10-05T12:00:00Z"),
        # the same request id, the next UTC day: another event
        _event("req-1", "2026-10-06T00:00:00Z", input_tokens=2000),
        # the same event twice in one file: once
        _event("req-2", "2026-10-05T12:00:00Z"),
        # 00:30 on the 6th at UTC+02:00 is the 5th in UTC: the UTC day decides
        _event("req-3", "2026-10-06T00:30:00+02:00", input_tokens=3000),
    ]
    first = _ingest(organization, events)
    assert (first.status, first.accepted, first.duplicates) == ("succeeded", 4, 1)
    assert _stored(organization) == [
        ("req-1", date(2026, 10, 5), 1000),
        ("req-1", date(2026, 10, 6), 2000),
        ("req-2", date(2026, 10, 5), 1000),
        ("req-3", date(2026, 10, 5), 3000),
    ]
    # The whole file again, plus one new event: only the new one lands, the replays count as duplicates.
    replay = _ingest(organization, [*events, _event("req-1", "2026-10-07T08:00:00Z", input_tokens=7)], "again")
    assert (replay.status, replay.accepted, replay.duplicates) == ("succeeded", 1, 5)
    assert len(_stored(organization)) == 5
    with scope(organization=organization):
        by_day = dict(DailyUsage.objects.values_list("day").annotate(n=Sum("records")))
    assert by_day == {date(2026, 10, 5): 3, date(2026, 10, 6): 1, date(2026, 10, 7): 1}
    # Another organisation's identical request ids are its own events.
    other = _ingest(world.org("b"), events)
    assert (other.accepted, other.duplicates) == (4, 1)


@postgresql_only
def test_a_duplicate_copy_that_fails_with_another_error_class_is_still_a_duplicate(world, price_book):
    """Citus reports a duplicate COPY as InternalError, SQLSTATE XX000 (no UniqueViolation, no constraint name).
    The same here: a trigger refuses a COPY of a stored event with XX000, as a shard would. The writer's
    fallback (staging table, INSERT … ON CONFLICT DO NOTHING) must sort the chunk out all the same."""
    organization = world.org("a")
    assert _ingest(organization, [_event("req-1", "2026-10-05T10:00:00Z")]).accepted == 1
    if citus_version() is None:  # on a Citus coordinator the real duplicate COPY raises XX000 by itself
        with connection.cursor() as cursor:
            cursor.execute(
                """CREATE FUNCTION pg_temp.like_citus() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF current_query() ILIKE 'COPY%' AND EXISTS (SELECT 1 FROM usage_usagerecord u
                WHERE u.organization_id = NEW.organization_id AND u.source = NEW.source
                  AND u.request_id = NEW.request_id AND u.day = NEW.day) THEN
                RAISE EXCEPTION 'duplicate key value violates unique constraint "usagerecord_idempotency_102171"'
                  USING ERRCODE = 'XX000';
              END IF;
              RETURN NEW;
            END $$"""
            )
            cursor.execute(
                "CREATE TRIGGER like_citus BEFORE INSERT ON usage_usagerecord FOR EACH ROW EXECUTE FUNCTION "
                "pg_temp.like_citus()"
            )
    job = _ingest(organization, [_event("req-1", "2026-10-05T10:00:00Z"), _event("req-2", "2026-10-05T11:00:00Z")])
    assert (job.status, job.accepted, job.duplicates) == ("succeeded", 1, 1)
    assert [row[0] for row in _stored(organization)] == ["req-1", "req-2"]


@postgresql_only
def test_the_writer_makes_the_partitions_of_a_back_dated_file_and_months_are_made_once(world, price_book):
    organization = world.org("a")
    assert partitions.partition_for(date(2019, 3, 1)) is None
    job = _ingest(organization, [_event("old-1", "2019-03-31T23:00:00Z"), _event("old-2", "2019-05-01T00:00:00Z")])
    assert job.accepted == 2
    names = {p.name for p in partitions.partitions()}
    assert {"usage_usagerecord_2019_03", "usage_usagerecord_2019_05"} <= names
    assert "usage_usagerecord_2019_04" not in names  # only the months of the rows
    assert partitions.partition_for(date(2019, 3, 1)) == partitions.Partition(
        "usage_usagerecord_2019_03", date(2019, 3, 1), date(2019, 4, 1)
    )
    assert partitions.ensure_months([date(2019, 3, 9), date(2019, 5, 2)]) == []  # idempotent
    # The rows are in their month's partition (not the parent's catch-all: there is none).
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_id FROM usage_usagerecord_2019_03")
        assert cursor.fetchall() == [("old-1",)]
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'usage_usagerecord'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
        )
        assert cursor.fetchone()[0] == 0


@postgresql_only
def test_the_beat_task_makes_this_month_and_the_next_three(world):
    from django.utils import timezone

    this_month = partitions.month_start(timezone.now().date())
    wanted = [partitions.partition_name(partitions.add_months(this_month, n)) for n in range(4)]
    for name in wanted[1:]:  # the migration made them: take three away to see the task make them again
        partition = next(p for p in partitions.partitions() if p.name == name)
        partitions.detach_and_drop(partition)
    assert create_usage_partitions() == wanted[1:]
    assert set(wanted) <= {p.name for p in partitions.partitions()}
    assert create_usage_partitions() == []


def test_on_sqlite_the_table_is_plain_and_there_is_nothing_to_make(world):
    if connection.vendor == "postgresql":
        assert partitions.partitioned()
        return
    assert not partitions.partitioned()
    assert partitions.partitions() == []
    assert partitions.ensure_months([date(2019, 3, 1)]) == []
    assert create_usage_partitions() == []


@postgresql_only
def test_a_one_month_request_list_query_reads_one_partition(world, price_book):
    organization = world.org("a")
    _ingest(
        organization,
        [
            _event("r-1", "2026-09-30T10:00:00Z"),
            _event("r-2", "2026-10-05T10:00:00Z"),
            _event("r-3", "2026-11-01T00:00:00Z"),
        ],
    )
    # The request list's own query for October (its selector bounds ``day`` as well as the time).
    october = usage_records(
        organization=organization,
        usage_filter=UsageFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
        team_values=None,
    )
    with scope(organization=organization):
        plan = october.explain()
        assert list(october.values_list("request_id", flat=True)) == ["r-2"]
    read = {name for name in (p.name for p in partitions.partitions()) if name in plan}
    assert read == {"usage_usagerecord_2026_10"}, plan


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_writers_making_the_same_month_at_once_make_it_once():
    """Four connections make the same new month together: one makes it, the others find it made (an advisory
    lock and a second look under it); nobody fails."""
    import threading

    from django.db import connections

    month = date(2018, 1, 1)
    start = threading.Barrier(4)
    results, errors = [], []

    def make():
        try:
            start.wait()
            results.append(partitions.ensure_months([month]))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(results) == [[], [], [], ["usage_usagerecord_2018_01"]]
        assert [p.name for p in partitions.partitions() if p.first == month] == ["usage_usagerecord_2018_01"]
    finally:
        made = partitions.partition_for(month)
        if made:
            partitions.detach_and_drop(made)
