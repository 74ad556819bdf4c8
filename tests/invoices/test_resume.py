"""An invoice import whose worker died is noticed (heartbeat, sweeper) and retried (portal, API, command)."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.ingest.jobs import job_retry, jobs_interrupt_stale
from apps.invoices.models import InvoiceIngestJob, InvoiceLine, ProviderInvoice
from apps.invoices.services import ingest as ingest_service
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_run
from apps.tenancy.roles import Role

from .conftest import FIXTURES, ingest

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for kill -9: no handler of the service runs."""


def _killed_while_storing(org, monkeypatch) -> InvoiceIngestJob:
    job, _ = invoice_ingest_create(
        organization=org,
        actor=None,
        file_name="generic_invoice.csv",
        stream=io.BytesIO((FIXTURES / "generic_invoice.csv").read_bytes()),
        channel=InvoiceIngestJob.Channel.COMMAND,
        enqueue=False,
    )
    real_line_row = ingest_service._line_row
    calls = {"n": 0}

    def die_mid_store(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerKilled()
        return real_line_row(*args, **kwargs)

    monkeypatch.setattr(ingest_service, "_line_row", die_mid_store)
    with pytest.raises(WorkerKilled):
        invoice_ingest_run(job_id=job.pk)
    monkeypatch.setattr(ingest_service, "_line_row", real_line_row)
    with scope(organization=org):
        job.refresh_from_db()
    return job


def _sweep(minutes_later: int = 16) -> list:
    return jobs_interrupt_stale(
        job_model=InvoiceIngestJob, audit_prefix="invoices", now=timezone.now() + timedelta(minutes=minutes_later)
    )


def _stored(org) -> tuple[int, list]:
    with scope(organization=org):
        return InvoiceLine.objects.count(), list(ProviderInvoice.objects.values_list("invoice_number", "total_nano"))


def test_a_killed_import_is_swept_and_the_retry_stores_the_file_once(world, monkeypatch):
    org = world.org("a")
    reference = ingest(world.org("b"), "generic_invoice.csv")  # the same file, read in one go elsewhere
    job = _killed_while_storing(org, monkeypatch)
    assert (job.status, job.attempts) == ("running", 1) and job.heartbeat_at is not None
    assert _stored(org) == (0, [])  # one transaction: nothing of the file was stored

    assert _sweep(minutes_later=5) == []
    (swept,) = _sweep()
    assert swept.pk == job.pk
    with scope(organization=org):
        job.refresh_from_db()
        audit = AuditEvent.objects.get(action="invoices.ingest_interrupted")
    assert job.status == "interrupted" and audit.object_id == str(job.pk)

    with scope(organization=org):
        job_retry(job=job, actor=None, enqueue=False)
    job = invoice_ingest_run(job_id=job.pk)
    with scope(organization=world.org("b")):
        expected = list(ProviderInvoice.objects.values_list("invoice_number", "total_nano"))
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert (job.accepted, job.duplicates, job.rejected) == (reference.accepted, 0, reference.rejected)
    assert _stored(org) == (reference.accepted, expected)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal(expected[0][1]) / 10**9


def test_retry_refuses_succeeded_and_refused_imports(world):
    org = world.org("a")
    done = ingest(org, "generic_invoice.csv")
    refused = ingest(org, b"", file_name="empty.csv")
    assert refused.status == "refused"
    with scope(organization=org):
        with pytest.raises(Exception, match="this one is succeeded"):
            job_retry(job=done, actor=None)
        with pytest.raises(Exception, match="refused as a whole"):
            job_retry(job=refused, actor=None)


def test_portal_and_api_retry(world, monkeypatch, django_capture_on_commit_callbacks):
    org = world.org("a")
    job = _killed_while_storing(org, monkeypatch)
    api = world.api("a", scopes=["invoices:write"])
    url = reverse("api:invoice-import-retry", kwargs={"pk": job.pk})
    assert api.post(url).status_code == 409  # still "running" until swept
    _sweep()
    client = world.login("a", Role.FINANCE_ANALYST)
    page = client.get(reverse("invoices:import_detail", kwargs={"org_slug": "alpha", "pk": job.pk})).content.decode()
    assert "Retry (reads the file again)" in page and "Interrupted (nothing written)" in page
    assert "hx-trigger" not in page
    viewer = world.login("a", Role.VIEWER)
    assert viewer.post(reverse("invoices:import_retry", kwargs={"org_slug": "alpha", "pk": job.pk})).status_code == 403
    assert world.api("b", scopes=["invoices:write"]).post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 202 and response.json()["status"] == "queued"
    with scope(organization=org):
        job.refresh_from_db()
    assert (job.status, job.duplicates) == ("succeeded", 0) and _stored(org)[0] == job.accepted > 0
    again = api.post(url)
    assert again.status_code == 409
    assert again.json() == {"detail": "Only a failed or interrupted import can be retried; this one is succeeded."}


def test_portal_retry_button_and_commands(world, monkeypatch, capsys, django_capture_on_commit_callbacks):
    org = world.org("a")
    first = _killed_while_storing(org, monkeypatch)
    call_command("sweep_stale_jobs", "--minutes", "0")
    assert capsys.readouterr().out == f"invoice job {first.pk} (alpha, generic_invoice.csv): interrupted\n"
    call_command("retry_invoice_import", str(first.pk), "--org", "alpha", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["status"], summary["duplicates"], summary["invoices"][0]["lines"]) == (
        "succeeded",
        0,
        _stored(org)[0],
    )

    second = _killed_while_storing(world.org("b"), monkeypatch)
    _sweep()
    client = world.login("b", Role.FINANCE_ANALYST)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invoices:import_retry", kwargs={"org_slug": "beta", "pk": second.pk}))
    assert response.status_code == 302
    with scope(organization=world.org("b")):
        second.refresh_from_db()
    assert second.status == "succeeded"


def test_the_heartbeat_moves_while_a_file_is_read(world, monkeypatch):
    org = world.org("a")
    monkeypatch.setattr(ingest_service, "HEARTBEAT_SECONDS", 0)
    beats = []
    real = ingest_service.job_heartbeat
    monkeypatch.setattr(ingest_service, "job_heartbeat", lambda job: (beats.append(job.pk), real(job)))
    job = ingest(org, "generic_invoice.csv")
    assert job.status == "succeeded" and len(beats) >= job.rows_total
