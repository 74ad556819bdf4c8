"""The demo's runtime end to end: a real Celery worker process on kombu's filesystem transport (what `make demo`
runs beside the development server; no broker service) reads a usage file queued on it, in chunks, to the end.

On SQLite the worker works on a file copy of the test database (SQLite's backup API), copied back once the
worker has stopped; on PostgreSQL it shares the test database. Bounded: the wait has a deadline, and the worker
is stopped (then killed) whatever happens."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date

import pytest
from celery import Celery
from django.conf import settings
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import connection, transaction
from django_scopes import scope

from apps.usage.models import DailyUsage, IngestJob, UsageRecord
from apps.usage.services.ingest import ingest_job_create
from apps.usage.synthetic import generate_events
from config.settings.base import filesystem_broker_options
from tests.test_celery_worker import ROOT

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROWS = 3_000
CHUNK = 500  # six committed chunks: the job's page would show six progress updates
DEADLINE_SECONDS = 180
FINISHED = ("succeeded", "failed", "interrupted")


@pytest.fixture
def _emptied_past_the_triggers(transactional_db):
    """The transactional test empties the tables afterwards, audit log included (as tests/test_browser_month_end.py
    does: PostgreSQL truncates, which row triggers do not see; SQLite deletes row by row, so its triggers are set
    aside while the tables are emptied, then put back as they were)."""
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            connection.ops.execute_sql_flush(sql_flush(no_style(), connection))
        finally:
            for _name, sql in triggers:
                cursor.execute(sql)


def _worker_database_url(tmp_path) -> tuple[str, str | None]:
    """(DATABASE_URL for the worker, the SQLite copy's path or None when the test database is shared)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}", None
    copy = str(tmp_path / "worker.sqlite3")
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    target.close()
    return f"sqlite:///{copy}", copy


def _job_state(job: IngestJob, copy: str | None) -> tuple[str, int]:
    if copy is None:
        with scope(organization=job.organization):
            return tuple(IngestJob.objects.values_list("status", "lines_done").get(pk=job.pk))
    reader = sqlite3.connect(copy, timeout=30)
    try:
        table = IngestJob._meta.db_table
        return reader.execute(f"SELECT status, lines_done FROM {table} WHERE id = ?", [job.pk]).fetchone()
    finally:
        reader.close()


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: it has nothing left to finish
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)


def test_a_worker_on_the_filesystem_transport_reads_a_queued_file_to_the_end(
    _emptied_past_the_triggers, catalog, tmp_path, monkeypatch
):
    # Celery reads CELERY_BROKER_URL from the environment before an app's own ``broker`` argument: under the
    # suite's Redis broker (CI) the producer below would otherwise send to Redis, not to the folder.
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")
    organization = catalog.org("a")
    body = b"".join(
        json.dumps(event).encode() + b"\n"
        for event in generate_events(count=ROWS, start=date(2026, 10, 1), days=30, workspace_prefix="alpha")
    )
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name="demo-upload.ndjson",
            stream=io.BytesIO(body),
            format="ndjson",
            channel=IngestJob.Channel.UPLOAD,
            enqueue=False,
        )
    assert job.status == "queued"

    broker_dir = tmp_path / "broker"
    options = filesystem_broker_options(broker_dir, poll_seconds=0.1)
    database_url, copy = _worker_database_url(tmp_path)
    # The message goes on the broker the way the web process puts it there: the task's name and the job's id,
    # JSON, on the default queue (a Celery app of the test's own, so the suite's app keeps its eager mode).
    producer = Celery("demo-test", broker="filesystem://", set_as_current=False)
    producer.conf.update(broker_transport_options=options, task_serializer="json", task_always_eager=False)
    producer.send_task("usage.run_ingest_job", args=[job.pk], ignore_result=True)
    assert len(list((broker_dir / "queue").iterdir())) == 1  # one message file, waiting for a worker

    env = {key: value for key, value in os.environ.items() if key != "CELERY_RESULT_BACKEND"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_DIR=str(broker_dir),
        CELERY_FILESYSTEM_POLL_SECONDS="0.1",
        INGEST_CHUNK_LINES=str(CHUNK),
        INGEST_PAYLOAD_DIR=settings.INGEST_PAYLOAD_DIR,
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--without-gossip",
             "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            state = _job_state(job, copy)
            while state[0] not in FINISHED and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
                state = _job_state(job, copy)
        finally:
            _stop(worker)
    assert state[0] == "succeeded", f"job {state} after the wait; worker log:\n{log.read_text()[-3000:]}"
    assert "usage.run_ingest_job" in log.read_text()  # the worker ran it, not this process
    assert list((broker_dir / "queue").iterdir()) == []  # the message was taken and acknowledged

    if copy is not None:  # the worker's writes come back into the test database
        with sqlite3.connect(copy) as source:
            source.backup(connection.connection)
        source.close()
    with scope(organization=organization):
        finished = IngestJob.objects.get(pk=job.pk)
        records = UsageRecord.objects.filter(job_id=job.pk).count()
        record_cost = sum(UsageRecord.objects.values_list("estimated_nano", flat=True))
        cube_records = sum(DailyUsage.objects.values_list("records", flat=True))
        cube_cost = sum(DailyUsage.objects.values_list("estimated_nano", flat=True))
    assert (finished.status, finished.attempts, finished.lines_done, finished.lines_expected) == (
        "succeeded",
        1,
        ROWS,
        ROWS,
    )
    assert (finished.rows_total, finished.accepted + finished.rejected, finished.duplicates) == (ROWS, ROWS, 0)
    assert records == cube_records == finished.accepted > 0
    assert cube_cost == record_cost == finished.estimated_nano > 0
    assert finished.progress_pct == 100 and finished.heartbeat_at is not None and finished.finished_at is not None
