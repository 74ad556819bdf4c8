"""Idempotency-Key under concurrency (PostgreSQL, one connection a thread, through the whole API stack): of two
or more requests with one new key, one runs; each other one is answered 409 (the first is still running) or the
first one's stored answer, never a second change and never a 500."""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.fx.models import OrgFxRate
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.tenancy.models import IdempotencyKey
from apps.tenancy.roles import Role, TokenScope
from tests.factories import ApiClientFactory
from tests.scenarios import OCT, chargeback, reconciled
from tests.test_celery_worker import _skip

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 4
OWNER_BODY = {"code": "CC-7001", "name": "Retrieval"}
FX_BODY = {"rates": [{"day": "2026-11-02", "from": "USD", "to": "EUR", "rate": "0.8712", "source": "Treasury EOD"}]}


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        _skip("concurrent requests need real connections to one database: set DATABASE_URL to PostgreSQL")


def _token(world, *, created_by=None) -> str:
    organization = world.org("a")
    with scope(organization=organization):
        return ApiClientFactory(
            organization=organization,
            created_by=created_by,
            role=Role.FINANCE_ANALYST,  # a service account that may prepare periods
            scopes=list(TokenScope.values),
        ).raw_token


def _post(raw_token: str, url: str, body, key: str):
    client = Client(headers={"Authorization": f"Bearer {raw_token}"}, raise_request_exception=False)
    return client.post(url, json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key})


def _transition(world):
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    url = reverse("api:period-transitions", kwargs={"period": "2026-10"})
    return url, {"transition": "start_reconciliation"}, world.user("a", Role.FINANCE_ANALYST)


def _transition_done(organization):
    with scope(organization=organization):
        assert BillingPeriod.objects.get(period=OCT).state == "reconciling"
        return AuditEvent.objects.filter(action="billing_period.start_reconciliation").count()


def _owner_done(organization):
    with scope(organization=organization):
        assert list(BudgetOwner.objects.values_list("code", flat=True)) == ["CC-7001"]
        return AuditEvent.objects.filter(action="budget_owner.created").count()


def _fx_done(organization):
    with scope(organization=organization):
        assert list(OrgFxRate.objects.values_list("rate_e10", flat=True)) == [8_712_000_000]
        return OrgFxRate.objects.count()


KINDS = {
    "period transition": (_transition, _transition_done),
    "catalog write": (lambda world: (reverse("api:budget-owner-list"), OWNER_BODY, None), _owner_done),
    "fx rates": (lambda world: (reverse("api:fx-rate-list"), FX_BODY, None), _fx_done),
}


@pytest.mark.parametrize("kind", KINDS)
def test_simultaneous_requests_with_one_key_run_once(world, kind):
    prepare, done = KINDS[kind]
    url, body, creator = prepare(world)
    raw_token = _token(world, created_by=creator)
    barrier = threading.Barrier(CLIENTS)
    answers, errors = [], []

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            response = _post(raw_token, url, body, "same-key")
            answers.append((response.status_code, response.headers.get("Idempotent-Replayed"), response.content))
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(answers) == CLIENTS
    ran = [answer for answer in answers if answer[0] in (200, 201) and answer[1] is None]
    assert len(ran) == 1, answers  # exactly one request ran
    replays = [answer for answer in answers if answer[1] == "true"]
    busy = [answer for answer in answers if answer[0] == 409]
    assert len(replays) + len(busy) == CLIENTS - 1, answers  # the others: the replay or 409, never a 500
    assert all(answer[:1] == ran[0][:1] and answer[2] == ran[0][2] for answer in replays)
    assert all(json.loads(answer[2])["detail"].startswith("A request with this Idempotency-Key") for answer in busy)
    assert done(world.org("a")) == 1  # one change, one audit event
    with scope(organization=world.org("a")):
        [record] = IdempotencyKey.objects.all()
    assert record.status_code == ran[0][0]


def test_a_request_arriving_while_the_first_runs_gets_409_then_the_replay(world, monkeypatch):
    """Deterministic: the first request is held inside its service (its key committed as in flight) while the
    second arrives."""
    from apps.owners import services

    real = services.budget_owner_create
    entered, release = threading.Event(), threading.Event()

    def held(**kwargs):
        entered.set()
        assert release.wait(timeout=60)
        return real(**kwargs)

    monkeypatch.setattr(services, "budget_owner_create", held)
    raw_token = _token(world)
    url = reverse("api:budget-owner-list")
    first = {}

    def send_first() -> None:
        try:
            first["response"] = _post(raw_token, url, OWNER_BODY, "held")
        finally:
            connections.close_all()

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        assert entered.wait(timeout=60)
        busy = _post(raw_token, url, OWNER_BODY, "held")
    finally:
        release.set()
        thread.join(timeout=60)
    assert busy.status_code == 409
    assert first["response"].status_code == 201 and "Idempotent-Replayed" not in first["response"]
    replay = _post(raw_token, url, OWNER_BODY, "held")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.content == first["response"].content
    assert _owner_done(world.org("a")) == 1
