"""Two ingests of overlapping files at the same time, on two database connections (PostgreSQL): every
request is stored once, and the two jobs' counts add up exactly."""

import io
import json
import threading

import pytest
from django.db import connection, connections, transaction
from django_scopes import scope

from apps.usage.models import DailyUsage, UsageRecord
from apps.usage.services import ingest as ingest_service
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from tests.factories import OrganizationFactory
from tests.test_celery_worker import _skip

pytestmark = pytest.mark.django_db(transaction=True)


def _event(index: int) -> bytes:
    return (
        json.dumps(
            {
                "request_id": f"r{index:05d}",
                "occurred_at": f"2026-10-{1 + index % 28:02d}T10:00:00Z",
                "provider": "openai",
                "model": "gpt-4o",
                "tags": {"team": f"team-{index % 5}"},
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            }
        ).encode()
        + b"\n"
    )


def test_overlapping_files_ingested_at_once_store_each_request_once(price_book, monkeypatch):
    if connection.vendor != "postgresql":
        _skip("concurrent ingest needs two real connections to one database: set DATABASE_URL to PostgreSQL")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 50)  # many small transactions, so the two interleave
    organization = OrganizationFactory(slug="concurrent")
    bodies = [b"".join(_event(i) for i in range(0, 600)), b"".join(_event(i) for i in range(300, 900))]
    jobs = []
    for number, body in enumerate(bodies):
        with transaction.atomic():
            job, _ = ingest_job_create(
                organization=organization,
                actor=None,
                file_name=f"f{number}.ndjson",
                stream=io.BytesIO(body),
                format="ndjson",
                channel="command",
                enqueue=False,
            )
        jobs.append(job)
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def run(job_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[job_id] = ingest_job_run(job_id=job_id)
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job.pk,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    first, second = (results[job.pk] for job in jobs)
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert first.accepted + second.accepted == 900
    assert first.duplicates + second.duplicates == 300
    assert first.rows_total == second.rows_total == 600
    with scope(organization=organization):
        assert UsageRecord.objects.count() == 900
        assert sum(DailyUsage.objects.values_list("records", flat=True)) == 900
        # gpt-4o: 1,000 x $2.50/M + 100 x $10/M = $0.0035 a request
        assert sum(DailyUsage.objects.values_list("estimated_nano", flat=True)) == 900 * 3_500_000
