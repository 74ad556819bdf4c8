"""A usage job whose worker died is noticed (heartbeat, sweeper) and resumed (portal, API, command)
without losing or double counting rows."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.ingest.jobs import job_retry, jobs_interrupt_stale
from apps.tenancy.roles import Role
from apps.usage.models import IngestJob
from apps.usage.services import ingest as ingest_service
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from tests.usage.test_ingest import SONNET_EVENT_NANO, counts, event, ndjson

pytestmark = pytest.mark.django_db

ROWS = 10


class WorkerKilled(BaseException):
    """Stands for kill -9: no handler of the service runs (it catches Exception only)."""


def _create(org, rows: int = ROWS) -> IngestJob:
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=org,
            actor=None,
            file_name="k.ndjson",
            stream=io.BytesIO(ndjson(*(event(f"k{i}") for i in range(rows)))),
            format="ndjson",
            channel="command",
            enqueue=False,
        )
    return job


def _killed_after_two_chunks(org, monkeypatch) -> IngestJob:
    """A job whose worker died after committing two chunks of three lines: it is left 'running'."""
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 3)
    job = _create(org)
    real_commit = ingest_service._commit_chunk
    calls = {"n": 0}

    def die_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise WorkerKilled()
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(ingest_service, "_commit_chunk", die_on_third)
    with pytest.raises(WorkerKilled):
        ingest_job_run(job_id=job.pk)
    monkeypatch.setattr(ingest_service, "_commit_chunk", real_commit)
    with scope(organization=org):
        job.refresh_from_db()
    return job


def _sweep(minutes_later: int = 16) -> list:
    return jobs_interrupt_stale(
        job_model=IngestJob, audit_prefix="usage", now=timezone.now() + timedelta(minutes=minutes_later)
    )


def test_a_killed_job_is_swept_to_interrupted_and_the_retry_counts_nothing_twice(catalog, monkeypatch):
    org = catalog.org("a")
    job = _killed_after_two_chunks(org, monkeypatch)
    assert (job.status, job.lines_done, job.accepted, job.attempts) == ("running", 6, 6, 1)
    assert job.heartbeat_at is not None and job.heartbeat_at >= job.started_at
    # Before the sweep the job looks alive: Retry refuses, as the issue saw.
    with scope(organization=org), pytest.raises(Exception, match="this one is running"):
        job_retry(job=job, actor=None)

    assert _sweep(minutes_later=5) == []  # a heartbeat 5 minutes old is not stale (default: 15)
    (swept,) = _sweep()
    assert swept.pk == job.pk
    with scope(organization=org):
        job.refresh_from_db()
        event_row = AuditEvent.objects.get(action="usage.ingest_interrupted")
    assert job.status == "interrupted" and "stopped reporting" in job.error_message
    assert (event_row.object_id, event_row.before, event_row.after["accepted"]) == (
        str(job.pk),
        {"status": "running"},
        6,
    )
    assert _sweep() == []  # only running jobs are swept

    with scope(organization=org):
        job_retry(job=job, actor=None, enqueue=False)
        assert AuditEvent.objects.filter(action="usage.ingest_retried").get().before == {"status": "interrupted"}
    job = ingest_job_run(job_id=job.pk)
    assert (job.status, job.accepted, job.duplicates, job.rejected, job.rows_total) == ("succeeded", ROWS, 0, 0, ROWS)
    assert (job.lines_done, job.attempts, job.error_message) == (ROWS, 2, "")
    assert counts(org) == (ROWS, ROWS, ROWS * SONNET_EVENT_NANO)
    assert audit_chain_verify(organization=org).ok


def test_a_runner_whose_job_was_interrupted_stops_at_its_next_commit(catalog, monkeypatch):
    """A slow worker wrongly swept must not keep writing beside the retry: it stops without writing."""
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 3)
    job = _create(org)
    real_commit = ingest_service._commit_chunk
    calls = {"n": 0}

    def swept_before_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            jobs_interrupt_stale(job_model=IngestJob, audit_prefix="usage", stale_after=timedelta(0))
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(ingest_service, "_commit_chunk", swept_before_second)
    returned = ingest_job_run(job_id=job.pk)
    assert (returned.status, returned.lines_done, returned.accepted) == ("interrupted", 3, 3)
    monkeypatch.setattr(ingest_service, "_commit_chunk", real_commit)
    with scope(organization=org):
        job_retry(job=returned, actor=None, enqueue=False)
    job = ingest_job_run(job_id=job.pk)
    assert (job.status, job.accepted, job.duplicates, job.rows_total) == ("succeeded", ROWS, 0, ROWS)


def test_a_runner_taken_over_by_a_retry_stops(catalog, monkeypatch):
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 3)
    job = _create(org)
    real_commit = ingest_service._commit_chunk
    calls = {"n": 0}

    def retried_meanwhile(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            IngestJob.objects.filter(pk=job.pk).update(attempts=5)  # another attempt has started
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(ingest_service, "_commit_chunk", retried_meanwhile)
    returned = ingest_job_run(job_id=job.pk)
    assert (returned.lines_done, returned.accepted, counts(org)[0]) == (3, 3, 3)


def test_retry_refuses_finished_and_refused_jobs(catalog):
    org = catalog.org("a")
    done = ingest_job_run(job_id=_create(org, rows=2).pk)
    with scope(organization=org):
        with pytest.raises(Exception, match="Only a failed or interrupted job can be retried; this one is succeeded"):
            job_retry(job=done, actor=None)
        with transaction.atomic():
            refused, _ = ingest_job_create(
                organization=org,
                actor=None,
                file_name="empty.ndjson",
                stream=io.BytesIO(b"\n"),
                channel="command",
                enqueue=False,
            )
    refused = ingest_job_run(job_id=refused.pk)
    with scope(organization=org), pytest.raises(Exception, match="refused as a whole"):
        job_retry(job=refused, actor=None)


def test_the_sweeper_spans_organisations_and_audits_in_each(catalog, monkeypatch):
    a, b = catalog.org("a"), catalog.org("b")
    job_a, job_b = _killed_after_two_chunks(a, monkeypatch), _killed_after_two_chunks(b, monkeypatch)
    assert sorted(j.pk for j in _sweep()) == sorted([job_a.pk, job_b.pk])
    for org, job in ((a, job_a), (b, job_b)):
        with scope(organization=org):
            assert list(
                AuditEvent.objects.filter(action="usage.ingest_interrupted").values_list("object_id", flat=True)
            ) == [str(job.pk)]


def test_portal_retry_button_resumes_an_interrupted_job(
    catalog, monkeypatch, django_capture_on_commit_callbacks, eager_celery
):
    org = catalog.org("a")
    job = _killed_after_two_chunks(org, monkeypatch)
    _sweep()
    client = catalog.login("a", Role.FINANCE_ANALYST)
    detail_url = reverse("usage:job_detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    page = client.get(detail_url).content.decode()
    assert "Retry (resumes where it stopped)" in page and ">interrupted</span>" in page
    assert "hx-trigger" not in page  # an interrupted job is not polled
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("usage:job_retry", kwargs={"org_slug": "alpha", "pk": job.pk}))
    assert response.status_code == 302
    with scope(organization=org):
        job.refresh_from_db()
    assert (job.status, job.accepted, job.duplicates) == ("succeeded", ROWS, 0)
    # The other organisation cannot retry it.
    other = catalog.login("b", Role.FINANCE_ANALYST)
    assert other.post(reverse("usage:job_retry", kwargs={"org_slug": "beta", "pk": job.pk})).status_code == 404


def test_api_retry(catalog, monkeypatch, django_capture_on_commit_callbacks, eager_celery):
    org = catalog.org("a")
    job = _killed_after_two_chunks(org, monkeypatch)
    api = catalog.api("a", scopes=["usage:write"])
    url = reverse("api:usage-job-retry", kwargs={"pk": job.pk})
    running = api.post(url)
    assert running.status_code == 409
    assert running.json() == {"detail": "Only a failed or interrupted job can be retried; this one is running."}
    _sweep()
    assert catalog.api("b", scopes=["usage:write"]).post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(url)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    finished = api.get(reverse("api:usage-job-detail", kwargs={"pk": job.pk})).json()
    assert (finished["status"], finished["accepted"], finished["duplicates"]) == ("succeeded", ROWS, 0)


def test_commands_sweep_and_retry(catalog, monkeypatch, capsys):
    org = catalog.org("a")
    job = _killed_after_two_chunks(org, monkeypatch)
    call_command("sweep_stale_jobs")  # default 15 minutes: the heartbeat is fresh
    assert capsys.readouterr().out == ""
    call_command("sweep_stale_jobs", "--minutes", "0")
    assert capsys.readouterr().out == f"usage job {job.pk} (alpha, k.ndjson): interrupted\n"
    call_command("retry_usage_job", str(job.pk), "--org", "alpha", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["status"], summary["accepted"], summary["duplicates"], summary["rows_total"]) == (
        "succeeded",
        ROWS,
        0,
        ROWS,
    )
    with pytest.raises(CommandError, match=f"No job {job.pk} in beta"):
        call_command("retry_usage_job", str(job.pk), "--org", "beta")


def test_the_sweep_is_scheduled_with_beat():
    import apps.invoices.tasks
    import apps.usage.tasks  # noqa: F401
    from config.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"usage.sweep_stale_jobs", "invoices.sweep_stale_jobs"} <= scheduled
    assert {"usage.sweep_stale_jobs", "invoices.sweep_stale_jobs"} <= set(app.tasks)
