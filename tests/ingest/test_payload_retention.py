"""Received upload bodies are kept only while their job may still be re-run: deleted as soon as it succeeds
or is refused, kept INGEST_PAYLOAD_RETENTION_DAYS for a failed or interrupted one (a retry reads them
again), then deleted by ``purge_ingest_payloads`` (bounded, idempotent, expiries audited); a retry after
that says why it cannot run. Real files in the payload directory throughout."""

import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.ingest.jobs import job_retry, jobs_purge_payloads, payloads_purge_orphans
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_run
from apps.tenancy.roles import Role, TokenScope
from apps.usage.models import IngestJob
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from apps.usage.tasks import purge_ingest_payloads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_payload_dir(settings, tmp_path):
    """A payload folder of this test's own: the orphan sweep looks at every file in it."""
    settings.INGEST_PAYLOAD_DIR = str(tmp_path / "payloads")


INVOICE_BODY = (Path(__file__).parents[1] / "invoices" / "fixtures" / "generic_invoice.csv").read_bytes()


def _usage_body(request_id: str) -> bytes:
    event = {
        "request_id": request_id,
        "occurred_at": "2026-10-03T14:22:05Z",
        "provider": "openai",
        "model": "gpt-4o",
        "usage": {"input_tokens": 1000, "output_tokens": 100},
    }
    return json.dumps(event).encode() + b"\n"


def _path(job) -> Path:
    from django.conf import settings

    return Path(settings.INGEST_PAYLOAD_DIR) / job.payload


def _usage_job(organization, name: str, **state) -> IngestJob:
    with scope(organization=organization):
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name=name,
            stream=io.BytesIO(_usage_body(name)),
            format="ndjson",
            channel="command",
            enqueue=False,
        )
        if state:
            IngestJob.objects.filter(pk=job.pk).update(**state)
            job.refresh_from_db()
    assert _path(job).is_file()
    return job


def _invoice_job(organization, body: bytes = INVOICE_BODY, **state) -> InvoiceIngestJob:
    with scope(organization=organization):
        job, _ = invoice_ingest_create(
            organization=organization,
            actor=None,
            file_name="bill.csv",
            stream=io.BytesIO(body),
            channel="command",
            enqueue=False,
        )
        if state:
            InvoiceIngestJob.objects.filter(pk=job.pk).update(**state)
            job.refresh_from_db()
    assert _path(job).is_file()
    return job


def _reloaded(job):
    with scopes_disabled():
        return type(job).objects.get(pk=job.pk)


def _actions(organization, suffix: str) -> list[tuple[str, str]]:
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action__endswith=suffix).values_list("action", "object_id"))


def test_a_succeeded_usage_job_drops_its_body_once_committed(world, price_book, django_capture_on_commit_callbacks):
    job = _usage_job(world.org("a"), "ok.ndjson")
    path = _path(job)
    with django_capture_on_commit_callbacks(execute=True):
        finished = ingest_job_run(job_id=job.pk)
    assert (finished.status, finished.accepted) == ("succeeded", 1)
    assert not path.exists()
    job = _reloaded(job)
    assert job.payload_deleted_at is not None and not job.payload_kept
    # Deleting the bytes of a job that cannot be re-run is logged, not audited (its finish is).
    assert _actions(world.org("a"), "ingest_payload_expired") == []


def test_a_refused_invoice_file_drops_its_body_once_committed(world, django_capture_on_commit_callbacks):
    job = _invoice_job(world.org("a"), body=b"\xff\xfe not text at all\n")
    path = _path(job)
    with django_capture_on_commit_callbacks(execute=True):
        finished = invoice_ingest_run(job_id=job.pk)
    assert finished.status == "refused"
    assert not path.exists()
    assert _reloaded(job).payload_deleted_at is not None


def test_a_failed_import_keeps_its_body_for_the_retention_then_a_retry_says_why(world, settings):
    settings.INGEST_PAYLOAD_RETENTION_DAYS = 7
    now = timezone.now()
    job = _invoice_job(world.org("a"), status="failed", finished_at=now - timedelta(days=6, hours=23))
    path = _path(job)
    assert jobs_purge_payloads(job_model=InvoiceIngestJob, now=now) == ([], False)
    assert path.is_file() and _reloaded(job).payload_kept  # may still be retried

    purged, more = jobs_purge_payloads(job_model=InvoiceIngestJob, now=now + timedelta(hours=2))
    assert ([j.pk for j in purged], more) == ([job.pk], False)
    assert not path.exists()
    job = _reloaded(job)
    assert job.payload_deleted_at == now + timedelta(hours=2)
    assert job.status == "failed"  # the job's story is kept; only its bytes went
    assert _actions(world.org("a"), "ingest_payload_expired") == [("invoices.ingest_payload_expired", str(job.pk))]
    assert _actions(world.org("b"), "ingest_payload_expired") == []

    with scope(organization=world.org("a")), pytest.raises(ValidationError) as refused:
        job_retry(job=job, actor=None)
    assert "no longer kept" in refused.value.messages[0] and "upload it again" in refused.value.messages[0]
    api = world.api("a", [TokenScope.INVOICES_WRITE])
    answer = api.post(reverse("api:invoice-import-retry", kwargs={"pk": job.pk}))
    assert answer.status_code == 409
    assert "INGEST_PAYLOAD_RETENTION_DAYS" in answer.json()["detail"]
    assert _reloaded(job).status == "failed"  # not queued for a run that could only fail
    page = world.login("a", Role.FINANCE_ANALYST).get(
        reverse("invoices:import_detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert f"The received file was deleted on {job.payload_deleted_at:%Y-%m-%d}" in html
    assert "Retry (reads the file again)" not in html
    # The other tenant cannot reach it at all.
    other = world.api("b", [TokenScope.INVOICES_WRITE])
    assert other.post(reverse("api:invoice-import-retry", kwargs={"pk": job.pk})).status_code == 404
    with scope(organization=world.org("a")):
        assert audit_chain_verify(organization=world.org("a")).ok


def test_a_retry_whose_file_went_missing_says_why_instead_of_failing_later(world):
    job = _invoice_job(world.org("a"), status="failed", finished_at=timezone.now())
    _path(job).unlink()
    page = world.login("a", Role.FINANCE_ANALYST).get(
        reverse("invoices:import_detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    )
    assert "Retry (reads the file again)" in page.content.decode()  # kept as far as the job knows
    with scope(organization=world.org("a")), pytest.raises(ValidationError, match="is missing from the payload"):
        job_retry(job=job, actor=None)


def test_the_purge_command_is_bounded_idempotent_and_spares_jobs_that_may_run(world, settings):
    settings.INGEST_PAYLOAD_RETENTION_DAYS = 7
    now = timezone.now()
    long_ago = now - timedelta(days=30)
    a, b = world.org("a"), world.org("b")
    done = [_usage_job(a, f"done-{n}", status="succeeded", finished_at=now) for n in range(3)]
    done_b = _usage_job(b, "done-b", status="succeeded", finished_at=now)
    refused = _invoice_job(b, status="refused", finished_at=now)
    stale = _usage_job(a, "stale", status="interrupted", source="api", heartbeat_at=now - timedelta(days=8))
    fresh = _usage_job(a, "fresh", status="interrupted", source="api", heartbeat_at=now - timedelta(days=1))
    failed_fresh = _invoice_job(a, status="failed", finished_at=now - timedelta(days=2))
    queued = _usage_job(a, "queued")
    running = _usage_job(a, "running", status="running", heartbeat_at=long_ago)
    with scopes_disabled():
        IngestJob.objects.filter(pk__in=[queued.pk, running.pk]).update(created_at=long_ago)

    out = io.StringIO()
    call_command("purge_ingest_payloads", "--batch", "2", stdout=out)
    assert "usage: 2 received file(s) deleted (more are due" in out.getvalue()
    assert "invoice: 1 received file(s) deleted\n" in out.getvalue()
    assert [_reloaded(job).payload_kept for job in done[:2]] == [False, False]  # oldest first

    out = io.StringIO()
    call_command("purge_ingest_payloads", "--batch", "2", "--all", stdout=out)
    assert "usage: 3 received file(s) deleted\n" in out.getvalue()
    assert "invoice: 0 received file(s) deleted\n" in out.getvalue()

    gone = [*done, done_b, refused, stale]
    kept = [fresh, failed_fresh, queued, running]
    assert [_path(job).exists() for job in gone] == [False] * len(gone)
    assert [_reloaded(job).payload_kept for job in gone] == [False] * len(gone)
    assert [_path(job).is_file() for job in kept] == [True] * len(kept)
    assert [_reloaded(job).payload_kept for job in kept] == [True] * len(kept)
    # Only the retryable job whose retention ran out is audited, in its own organisation.
    assert _actions(a, "ingest_payload_expired") == [("usage.ingest_payload_expired", str(stale.pk))]
    assert _actions(b, "ingest_payload_expired") == []

    again = io.StringIO()
    call_command("purge_ingest_payloads", stdout=again)  # idempotent: nothing left to do
    assert again.getvalue() == (
        "usage: 0 received file(s) deleted\ninvoice: 0 received file(s) deleted\n"
        "0 file(s) that no job names deleted (older than a day)\n"
    )
    assert purge_ingest_payloads() == {"usage": [], "invoice": [], "orphans": []}  # the scheduled task

    # A shorter retention (--days) reaches the younger failed jobs too; active ones still never.
    call_command("purge_ingest_payloads", "--days", "0", stdout=io.StringIO())
    assert [_reloaded(job).payload_kept for job in kept] == [False, False, True, True]
    for organization in (a, b):
        with scope(organization=organization):
            assert audit_chain_verify(organization=organization).ok


def test_files_that_no_job_names_are_deleted_a_day_after_they_were_written(world, settings):
    """A body kept by a receipt whose transaction never committed (rolled back, process killed) has no
    job: the sweep deletes it once it is a day old, and leaves young files (a receipt under way) and every
    file a job names, whatever its age."""
    now = timezone.now()
    root = Path(settings.INGEST_PAYLOAD_DIR)
    two_days_ago = (now - timedelta(days=2)).timestamp()
    named = _usage_job(world.org("a"), "named")
    os.utime(_path(named), (two_days_ago, two_days_ago))
    named_b = _invoice_job(world.org("b"))
    os.utime(_path(named_b), (two_days_ago, two_days_ago))
    old_orphan = root / str(world.org("b").pk) / "never-committed.bin"
    old_orphan.write_bytes(b"x")
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    young_orphan = root / str(world.org("a").pk) / "being-received.bin"
    young_orphan.write_bytes(b"y")

    assert payloads_purge_orphans(now=now) == [f"{world.org('b').pk}/never-committed.bin"]
    assert not old_orphan.exists()
    assert young_orphan.is_file() and _path(named).is_file() and _path(named_b).is_file()
    assert payloads_purge_orphans(now=now) == []  # idempotent
    assert payloads_purge_orphans(now=now + timedelta(days=2)) == [f"{world.org('a').pk}/being-received.bin"]
    assert _path(named).is_file() and _path(named_b).is_file()
