"""A real Celery worker killed (SIGKILL) in the middle of a file; the sweeper marks the job interrupted and
the retry finishes it with no lost and no duplicated rows. PostgreSQL + a broker only (CI runs it)."""

import io
import os
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django_scopes import scope

from apps.ingest.jobs import job_retry, jobs_interrupt_stale
from apps.usage.models import DailyUsage, IngestJob, UsageRecord
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from apps.usage.synthetic import generate_events
from tests.factories import OrganizationFactory
from tests.test_celery_worker import _database_url_for_worker, _skip
from tests.workers import start_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROWS = 40_000


def test_killed_worker_loses_nothing_and_double_counts_nothing(price_book):
    import json

    if not os.environ.get("CELERY_BROKER_URL"):
        _skip("no CELERY_BROKER_URL configured: the embedded runtime runs tasks eagerly (CI sets one)")
    database_url = _database_url_for_worker()
    organization = OrganizationFactory(slug="kill-test")
    body = b"".join(
        json.dumps(e).encode() + b"\n"
        for e in generate_events(count=ROWS, start=__import__("datetime").date(2026, 10, 1), days=30)
    )
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name="big.ndjson",
            stream=io.BytesIO(body),
            format="ndjson",
            channel="command",
            enqueue=False,
        )
    queue = f"kill-{job.pk}-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "INGEST_CHUNK_LINES": "1000",
        "INGEST_PAYLOAD_DIR": settings.INGEST_PAYLOAD_DIR,
    }
    worker = start_worker(env=env, queue=queue)
    try:
        from apps.usage.tasks import run_ingest_job

        run_ingest_job.apply_async(args=[job.pk], queue=queue)
        deadline = time.monotonic() + 120
        lines_done = 0
        while time.monotonic() < deadline:
            with scope(organization=organization):
                lines_done = IngestJob.objects.values_list("lines_done", flat=True).get(pk=job.pk)
            if lines_done >= 2000:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert 0 < lines_done < ROWS, f"the kill did not land mid-file (lines_done={lines_done})"
    with scope(organization=organization):
        interrupted = IngestJob.objects.get(pk=job.pk)
        stored_before = UsageRecord.objects.count()
    assert interrupted.status == "running" and interrupted.accepted == stored_before < ROWS
    assert interrupted.heartbeat_at is not None

    # The sweeper (celery beat runs it every minute) notices the silent worker; a retry then resumes it.
    (swept,) = jobs_interrupt_stale(job_model=IngestJob, audit_prefix="usage", stale_after=timedelta(0))
    assert (swept.pk, swept.status) == (job.pk, "interrupted")
    with scope(organization=organization):
        job_retry(job=swept, actor=None, enqueue=False)
    finished = ingest_job_run(job_id=job.pk)

    with scope(organization=organization):
        stored = UsageRecord.objects.count()
        cube_records = sum(DailyUsage.objects.values_list("records", flat=True))
        cube_cost = sum(DailyUsage.objects.values_list("estimated_nano", flat=True))
        record_cost = sum(UsageRecord.objects.values_list("estimated_nano", flat=True))
    assert (finished.status, finished.accepted, finished.duplicates, finished.rejected) == ("succeeded", ROWS, 0, 0)
    assert (finished.rows_total, finished.attempts) == (ROWS, 2)
    assert stored == cube_records == ROWS
    assert cube_cost == record_cost == finished.estimated_nano
