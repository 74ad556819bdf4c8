"""Concurrent duplicates of an idempotent request (PostgreSQL, one connection a thread): N identical usage
pushes or invoice uploads with one new Idempotency-Key, released together through the whole API stack.
Exactly one job is created and one body kept; every answer is 2xx, one of them the creation and the
others replays of the same job; none is a 500."""

import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from tests.factories import ApiClientFactory, OrganizationFactory
from tests.ingest.test_idempotent_receive import KINDS, RECEIVED
from tests.test_celery_worker import _skip

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 8


@pytest.fixture(autouse=True)
def _queued_only(monkeypatch):
    """Receipt is under test, not the run: the job stays queued (no task is sent)."""
    monkeypatch.setattr("apps.usage.services.ingest.job_enqueue", lambda job: None)
    monkeypatch.setattr("apps.invoices.services.ingest.job_enqueue", lambda job: None)


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_duplicates_get_one_job_and_replays_never_a_500(settings, kind):
    if connection.vendor != "postgresql":
        _skip("concurrent requests need real connections to one database: set DATABASE_URL to PostgreSQL")
    model, url_name, token_scope, body, content_type = KINDS[kind]
    organization = OrganizationFactory(slug=f"idem-{kind}")
    bystander = OrganizationFactory(slug=f"idem-{kind}-other")
    tokens = {}
    for org in (organization, bystander):
        with scope(organization=org):
            tokens[org.slug] = ApiClientFactory(organization=org, scopes=[token_scope]).raw_token
    payload_dir = Path(settings.INGEST_PAYLOAD_DIR)
    files_before = set(payload_dir.rglob("*.bin"))
    barrier = threading.Barrier(CLIENTS)
    answers, errors = [], []

    def push(token: str) -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {token}"}, raise_request_exception=False)
            barrier.wait(timeout=30)
            response = client.post(
                reverse(url_name), body, content_type=content_type, headers={"Idempotency-Key": "same-key"}
            )
            job_id = response.json().get("id") if response.headers["Content-Type"] == "application/json" else None
            answers.append((response.status_code, response.headers.get("Idempotent-Replayed"), job_id))
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    # Seven clients of the organisation and one of another, all with the same key at the same moment.
    slugs = [organization.slug] * (CLIENTS - 1) + [bystander.slug]
    threads = [threading.Thread(target=push, args=(tokens[slug],)) for slug in slugs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(answers) == CLIENTS
    assert sorted(code for code, _replayed, _id in answers) == [202] * CLIENTS  # no 500, no 4xx
    with scope(organization=organization):
        jobs = list(model.objects.values_list("pk", flat=True))
        received = AuditEvent.objects.filter(action=RECEIVED[kind]).count()
        assert audit_chain_verify(organization=organization).ok
    with scope(organization=bystander):
        other_jobs = list(model.objects.values_list("pk", flat=True))
    assert len(jobs) == 1 and len(other_jobs) == 1  # the key is per organisation
    ids = sorted(job_id for _code, _replayed, job_id in answers)
    assert ids == sorted(jobs * (CLIENTS - 1) + other_jobs)  # every answer names its own organisation's job
    created = [answer for answer in answers if answer[1] is None]
    assert len(created) == 2  # one creation in each organisation; the other six are replays
    assert sum(1 for answer in answers if answer[1] == "true") == CLIENTS - 2
    assert received == 1
    assert len(set(payload_dir.rglob("*.bin")) - files_before) == 2  # one kept body each, the losers' deleted
