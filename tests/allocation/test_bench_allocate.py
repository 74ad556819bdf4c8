"""The public events loader (``ingest_events``, what the allocation benchmark loads with) stores exactly what
ingesting the same events from a file stores."""

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django_scopes import scope

from apps.taxonomy.demo import seed_demo as seed_taxonomy
from apps.usage.models import DailyDetailUsage, DailyUsage, IngestJob, UsageRecord
from apps.usage.services import ingest as ingest_service
from apps.usage.services.ingest import ingest_events, ingest_job_create, ingest_job_run
from apps.usage.synthetic import generate_events

pytestmark = pytest.mark.django_db

SKIPPED = {"id", "organization", "job", "tagset"}


def _rows(model, organization, order: list[str]) -> list[dict]:
    """Every stored row without its ids, the tag set by its tags (ids differ between organisations)."""
    fields = [f.attname for f in model._meta.concrete_fields if f.name not in SKIPPED]
    if any(f.name == "tagset" for f in model._meta.concrete_fields):
        fields.append("tagset__tags")
    with scope(organization=organization):
        return list(model.objects.order_by(*order).values(*fields))


def _ingest_file(organization, events: list[dict]) -> IngestJob:
    body = "".join(json.dumps(event, separators=(",", ":")) + "\n" for event in events).encode()
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name="events.ndjson",
            stream=io.BytesIO(body),
            format="ndjson",
            channel=IngestJob.Channel.COMMAND,
            enqueue=False,
        )
    return ingest_job_run(job_id=job.pk)


def test_loaded_events_are_stored_as_the_file_ingest_stores_them(world, price_book, monkeypatch):
    # Small chunks, so cube cells and detail totals are added to across several transactions.
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 40)
    loaded, ingested = world.org("a"), world.org("b")
    for organization in (loaded, ingested):
        seed_taxonomy(organization=organization, stdout=io.StringIO())
    events = list(generate_events(count=150, start=date(2026, 10, 1), days=3, seed=11, missing_tag_share=0.1))

    job = ingest_events(organization=loaded, events=events, expected=len(events))
    file_job = _ingest_file(ingested, events)

    assert (job.status, job.accepted, job.rejected, job.lines_done) == ("succeeded", 150, 0, 150)
    assert (job.estimated_nano, job.unpriced_rows) == (file_job.estimated_nano, file_job.unpriced_rows)
    assert job.estimated_nano > 0
    records = _rows(UsageRecord, loaded, ["request_id"])
    assert len(records) == 150
    assert records == _rows(UsageRecord, ingested, ["request_id"])
    cube_order = ["day", "provider", "model", "service_tier", "tagset__hash", "is_retry", "is_batch"]
    cube = _rows(DailyUsage, loaded, cube_order)
    assert sum(row["records"] for row in cube) == 150
    assert cube == _rows(DailyUsage, ingested, cube_order)
    detail_order = ["day", "dimension", "value", "team"]
    detail = _rows(DailyDetailUsage, loaded, detail_order)
    assert {row["dimension"] for row in detail} == {"customer"}
    assert detail == _rows(DailyDetailUsage, ingested, detail_order)


def test_bench_refuses_zero_rows():
    with pytest.raises(CommandError, match=r"^--rows and --repeat must be at least 1\.$"):
        call_command("bench_allocate", "--rows", "0")
