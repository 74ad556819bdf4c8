"""A queued import that no worker takes says so on its page (is a worker running?) instead of showing a progress
bar that never moves: after WORKER_WAIT_WARNING_SECONDS from when it was queued (created, or retried)."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.ingest.jobs import job_retry, job_worker_wait
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.services.ingest import invoice_ingest_create
from apps.tenancy.roles import Role
from apps.usage.models import IngestJob
from apps.usage.services.ingest import ingest_job_create

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "invoices" / "fixtures"
WAITING = re.compile(r"no worker has picked this job up for (\d+) s")
# The job page's polled partial: the session, the user, the membership, the job, its errors (12 measured).
QUERIES = 12
USAGE_LINE = b'{"request_id":"r1","occurred_at":"2026-10-01T10:00:00Z","provider":"openai","model":"gpt-4o"}\n'


@pytest.fixture(autouse=True)
def _warning_after(settings):
    settings.WORKER_WAIT_WARNING_SECONDS = 15


def _usage_job(organization) -> IngestJob:
    job, _ = ingest_job_create(
        organization=organization,
        actor=None,
        file_name="waiting.ndjson",
        stream=io.BytesIO(USAGE_LINE),
        format="ndjson",
        channel=IngestJob.Channel.UPLOAD,
        enqueue=False,  # queued, and no worker will take it
    )
    return job


def _invoice_job(organization) -> InvoiceIngestJob:
    job, _ = invoice_ingest_create(
        organization=organization,
        actor=None,
        file_name="generic_invoice.csv",
        stream=io.BytesIO((FIXTURES / "generic_invoice.csv").read_bytes()),
        channel=InvoiceIngestJob.Channel.UPLOAD,
        enqueue=False,
    )
    return job


def _age(job, seconds: int, **fields) -> None:
    with scope(organization=job.organization):
        type(job).objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=seconds), **fields)


def _waited(page: str) -> int | None:
    found = WAITING.search(page)
    return int(found.group(1)) if found else None


def test_a_usage_import_queued_past_the_limit_asks_whether_a_worker_runs(world):
    job = _usage_job(world.org("a"))
    client = world.login("a", Role.FINANCE_ANALYST)
    url = reverse("usage:job_detail", kwargs={"org_slug": "alpha", "pk": job.pk})

    page = client.get(url).content.decode()
    assert ">queued</span>" in page and "hx-trigger" in page  # just queued: the bar, polled, no warning
    assert _waited(page) is None and "Waiting for a worker" not in page

    _age(job, 3600)
    page = client.get(url).content.decode()
    assert "Waiting for a worker" in page and "make demo" in page
    assert 3600 <= _waited(page) < 3660  # seconds since it was queued, as the request saw them
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()  # what the page polls
    assert 3600 <= _waited(partial) < 3660 and "hx-trigger" in partial

    _age(job, 3600, status=IngestJob.Status.RUNNING)  # a worker took it: progress, no warning
    assert _waited(client.get(url, headers={"HX-Request": "true"}).content.decode()) is None


def test_an_invoice_import_queued_past_the_limit_asks_too(world):
    job = _invoice_job(world.org("a"))
    client = world.login("a", Role.FINANCE_ANALYST)
    url = reverse("invoices:import_detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    assert _waited(client.get(url).content.decode()) is None
    _age(job, 120)
    assert 120 <= _waited(client.get(url, headers={"HX-Request": "true"}).content.decode()) < 180


def test_the_wait_counts_from_the_limit_and_from_a_retry(world):
    organization = world.org("a")
    job = _usage_job(organization)
    created = job.created_at
    assert job_worker_wait(job=job, now=created + timedelta(seconds=14)) is None
    assert job_worker_wait(job=job, now=created + timedelta(seconds=15)) == 15

    # Interrupted an hour later, then retried: the wait starts again at the retry (its audit event), not at
    # the job's creation.
    with scope(organization=organization):
        IngestJob.objects.filter(pk=job.pk).update(status=IngestJob.Status.INTERRUPTED, attempts=1)
        job.refresh_from_db()
    job = job_retry(job=job, actor=None, enqueue=False)
    with scope(organization=organization):
        retried_at = AuditEvent.objects.get(action="usage.ingest_retried", object_id=str(job.pk)).created_at
    assert job.status == "queued" and retried_at > created
    assert job_worker_wait(job=job, now=retried_at + timedelta(seconds=10)) is None
    assert job_worker_wait(job=job, now=retried_at + timedelta(seconds=20)) == 20


def test_the_polled_partial_stays_within_its_queries(world, django_assert_max_num_queries):
    job = _usage_job(world.org("a"))
    client = world.login("a", Role.FINANCE_ANALYST)
    url = reverse("usage:job_detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    _age(job, 3600)
    with django_assert_max_num_queries(QUERIES):
        page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert _waited(page) is not None
    with scope(organization=job.organization):
        IngestJob.objects.filter(pk=job.pk).update(attempts=1)  # a retried job reads its retry's time: one more
    with django_assert_max_num_queries(QUERIES + 1):
        client.get(url, headers={"HX-Request": "true"})
