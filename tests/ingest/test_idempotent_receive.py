"""Idempotent receipt of usage pushes and invoice uploads (the API): a replay stores nothing, and a request
that loses the race for a new Idempotency-Key (the job created by another between its look-up and its
insert) answers as a replay, never a 500. The race here is made by hand, between the look-up and the
insert; tests/ingest/test_idempotent_concurrency.py runs it for real on PostgreSQL."""

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.ingest import payloads
from apps.invoices.models import InvoiceIngestJob
from apps.tenancy.roles import TokenScope
from apps.usage.models import IngestJob

pytestmark = pytest.mark.django_db

INVOICE_BODY = (Path(__file__).parents[1] / "invoices" / "fixtures" / "generic_invoice.csv").read_bytes()
USAGE_BODY = (
    json.dumps(
        {
            "request_id": "idem-1",
            "occurred_at": "2026-10-03T14:22:05Z",
            "provider": "openai",
            "model": "gpt-4o",
            "usage": {"input_tokens": 1000, "output_tokens": 100},
        }
    ).encode()
    + b"\n"
)

# (job model, list URL name, token scope, body, content type)
KINDS = {
    "usage": (IngestJob, "api:usage-job-list", TokenScope.USAGE_WRITE, USAGE_BODY, "application/x-ndjson"),
    "invoices": (InvoiceIngestJob, "api:invoice-list", TokenScope.INVOICES_WRITE, INVOICE_BODY, "text/csv"),
}
RECEIVED = {"usage": "usage.ingest_received", "invoices": "invoices.ingest_received"}


def _files(settings) -> set[str]:
    return {str(path) for path in Path(settings.INGEST_PAYLOAD_DIR).rglob("*.bin")}


def _post(api, kind: str, body: bytes, key: str):
    _model, url_name, _scope, _body, content_type = KINDS[kind]
    return api.post(reverse(url_name), body, content_type=content_type, headers={"Idempotency-Key": key})


def _jobs(model, organization) -> list:
    with scope(organization=organization):
        return list(model.objects.order_by("pk"))


def _received_events(organization, action: str) -> int:
    with scope(organization=organization):
        return AuditEvent.objects.filter(action=action).count()


@pytest.fixture(autouse=True)
def _queued_only(monkeypatch):
    """Receipt is under test, not the run: the job stays queued (no task is sent)."""
    monkeypatch.setattr("apps.usage.services.ingest.job_enqueue", lambda job: None)
    monkeypatch.setattr("apps.invoices.services.ingest.job_enqueue", lambda job: None)


@pytest.mark.parametrize("kind", KINDS)
def test_a_replay_stores_nothing_and_answers_the_first_job(world, settings, kind):
    model, _url, token_scope, body, _ct = KINDS[kind]
    api = world.api("a", [token_scope])
    before = _files(settings)
    first = _post(api, kind, body, "k-replay")
    assert first.status_code == 202 and not first.has_header("Idempotent-Replayed")
    after_first = _files(settings)
    assert len(after_first - before) == 1  # the first request keeps its body
    replay = _post(api, kind, body, "k-replay")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    conflict = _post(api, kind, body + b"\n", "k-replay")
    assert conflict.status_code == 400
    assert "different body" in json.dumps(conflict.json())
    assert _files(settings) == after_first  # neither the replay nor the refused reuse left a file
    assert [job.pk for job in _jobs(model, world.org("a"))] == [first.json()["id"]]
    assert _received_events(world.org("a"), RECEIVED[kind]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_losing_the_race_for_a_new_key_answers_the_replay(world, settings, monkeypatch, kind):
    """Another request creates the job after this one's look-up found nothing and before its insert: the
    insert hits the unique key, and the answer is the replay of the winner's job (202, replayed), its own
    copy of the body is dropped, and nothing of it is audited."""
    model, _url, token_scope, body, _ct = KINDS[kind]
    organization = world.org("a")
    api = world.api("a", [token_scope])
    real_store = payloads.payload_store
    winners = []

    def rival_wins_then_store(**kwargs):
        # Runs after the look-up (no job yet) and before the insert: the rival commits its job now.
        winners.append(
            model.objects.create(
                organization=organization,
                channel="api",
                format="auto",
                file_name="rival",
                sha256=hashlib.sha256(body).hexdigest(),
                size_bytes=len(body),
                payload="rival.bin",
                idempotency_key="k-race",
            )
        )
        return real_store(**kwargs)

    monkeypatch.setattr(payloads, "payload_store", rival_wins_then_store)
    before = _files(settings)
    response = _post(api, kind, body, "k-race")
    assert len(winners) == 1  # the race really happened between the look-up and the insert
    assert response.status_code == 202
    assert response["Idempotent-Replayed"] == "true"
    assert response.json()["id"] == winners[0].pk
    assert [job.pk for job in _jobs(model, organization)] == [winners[0].pk]
    assert _files(settings) == before  # the loser's copy was deleted
    assert _received_events(organization, RECEIVED[kind]) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_losing_the_race_with_another_body_keeps_the_400(world, settings, monkeypatch, kind):
    model, _url, token_scope, body, _ct = KINDS[kind]
    organization = world.org("a")
    api = world.api("a", [token_scope])
    real_store = payloads.payload_store

    def rival_wins_with_another_body(**kwargs):
        model.objects.create(
            organization=organization,
            channel="api",
            format="auto",
            file_name="rival",
            sha256=hashlib.sha256(b"another body").hexdigest(),
            size_bytes=12,
            payload="rival.bin",
            idempotency_key="k-race",
        )
        return real_store(**kwargs)

    monkeypatch.setattr(payloads, "payload_store", rival_wins_with_another_body)
    before = _files(settings)
    response = _post(api, kind, body, "k-race")
    assert response.status_code == 400
    assert response.json()["idempotency_key"] == ["This Idempotency-Key was already used with a different body."]
    assert [job.file_name for job in _jobs(model, organization)] == ["rival"]
    assert _files(settings) == before


def test_an_integrity_error_that_is_not_the_key_is_not_taken_for_a_replay(world, settings, monkeypatch):
    """Only the key's race is answered as a replay: any other failure of the insert propagates (and the
    body it kept is deleted)."""
    from django.db import IntegrityError

    from apps.usage.services.ingest import ingest_job_create

    def broken_create(**kwargs):
        raise IntegrityError("another constraint")

    before = _files(settings)
    with scope(organization=world.org("a")):
        monkeypatch.setattr(IngestJob.objects, "create", broken_create)
        with pytest.raises(IntegrityError, match="another constraint"):
            ingest_job_create(
                organization=world.org("a"),
                actor=None,
                file_name="x.ndjson",
                stream=io.BytesIO(USAGE_BODY),
                format="ndjson",
                channel="api",
                idempotency_key="k-other",
            )
    assert _files(settings) == before


def test_one_key_in_two_organisations_is_two_jobs(world, settings):
    """The key is unique per organisation: another tenant's use of it is neither a replay nor a conflict,
    and a replay never answers with another tenant's job."""
    a = world.api("a", [TokenScope.USAGE_WRITE])
    b = world.api("b", [TokenScope.USAGE_WRITE])
    first_a = _post(a, "usage", USAGE_BODY, "shared-key")
    first_b = _post(b, "usage", USAGE_BODY + b"\n", "shared-key")
    assert (first_a.status_code, first_b.status_code) == (202, 202)
    assert not first_b.has_header("Idempotent-Replayed")
    replay_b = _post(b, "usage", USAGE_BODY + b"\n", "shared-key")
    assert replay_b.json()["id"] == first_b.json()["id"] != first_a.json()["id"]
    with scopes_disabled():
        owners = dict(IngestJob.objects.values_list("pk", "organization__slug"))
    assert owners == {first_a.json()["id"]: "alpha", first_b.json()["id"]: "beta"}
