"""The API's sync conventions (apps/tenancy/api/views.py, apps/tenancy/idempotency.py): Idempotency-Key on every
POST (a period transition, a catalog write, own FX rates), and ETag / If-None-Match on every GET."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.fx.models import OrgFxRate
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.tenancy.idempotency import idempotency_claim, request_fingerprint
from apps.tenancy.models import IdempotencyKey
from apps.tenancy.roles import Role, TokenScope
from apps.tenancy.tasks import purge_idempotency_keys
from tests.factories import ApiClientFactory
from tests.scenarios import OCT, chargeback, reconciled

pytestmark = pytest.mark.django_db

OWNERS = reverse("api:budget-owner-list")
FX = reverse("api:fx-rate-list")
PERIODS = reverse("api:period-list")
OCTOBER = reverse("api:period-detail", kwargs={"period": "2026-10"})
TRANSITIONS = reverse("api:period-transitions", kwargs={"period": "2026-10"})
OWNER_BODY = {"code": "CC-7001", "name": "Retrieval", "location": "DE-BER"}
FX_BODY = {"rates": [{"day": "2026-11-02", "from": "USD", "to": "EUR", "rate": "0.8712", "source": "Treasury EOD"}]}


def token(world, key: str = "a", *, scopes=None, created_by=None):
    organization = world.org(key)
    with scope(organization=organization):
        api_client = ApiClientFactory(
            organization=organization,
            created_by=created_by,
            role=Role.FINANCE_ANALYST,  # a service account that may prepare periods
            scopes=scopes or list(TokenScope.values),
        )
    return api_client, Client(headers={"Authorization": f"Bearer {api_client.raw_token}"})


def post(api: Client, url: str, body, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post(url, json.dumps(body), content_type="application/json", headers=headers)


def audit_count(organization, action: str) -> int:
    with scope(organization=organization):
        return AuditEvent.objects.filter(action=action).count()


def test_a_retried_period_transition_is_replayed_not_applied_twice(world):
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    _, api = token(world, created_by=world.user("a", Role.FINANCE_ANALYST))
    first = post(api, TRANSITIONS, {"transition": "start_reconciliation"}, key="oct-start-1")
    assert first.status_code == 200 and first.json()["state"] == "reconciling"
    assert "Idempotent-Replayed" not in first
    again = post(api, TRANSITIONS, {"transition": "start_reconciliation"}, key="oct-start-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content  # the stored body, byte for byte
    assert audit_count(world.org("a"), "billing_period.start_reconciliation") == 1
    # Without the key the same request is a new one: the period has left open, so it is refused.
    assert post(api, TRANSITIONS, {"transition": "start_reconciliation"}).status_code == 409
    # The key with another body, or on another path, is another request: 422, nothing done.
    other_body = post(api, TRANSITIONS, {"transition": "submit_for_review"}, key="oct-start-1")
    assert other_body.status_code == 422
    assert other_body.json() == {
        "detail": "This Idempotency-Key was already used for another request (POST "
        "/api/v1/periods/2026-10/transitions/ with its own body): send a new key for a new request."
    }
    september = reverse("api:period-transitions", kwargs={"period": "2026-09"})
    assert post(api, september, {"transition": "start_reconciliation"}, key="oct-start-1").status_code == 422
    with scope(organization=world.org("a")):
        assert BillingPeriod.objects.get(period=OCT).state == "reconciling"
        [record] = IdempotencyKey.objects.all()
    assert (record.key, record.method, record.path, record.status_code) == (
        "oct-start-1",
        "POST",
        "/api/v1/periods/2026-10/transitions/",
        200,
    )


def test_a_refusal_is_stored_and_replayed_too(world):
    """A 4xx is the answer to that request: the retry gets it again, even once the state would allow it."""
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    _, api = token(world, created_by=world.user("a", Role.FINANCE_ANALYST))
    refused = post(api, TRANSITIONS, {"transition": "submit_for_review"}, key="early")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "2026-10 is open: Submit for review needs a period that is reconciling."
    assert post(api, TRANSITIONS, {"transition": "start_reconciliation"}).status_code == 200
    replay = post(api, TRANSITIONS, {"transition": "submit_for_review"}, key="early")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (409, "true")
    assert replay.json() == refused.json()


def test_a_retried_catalog_write_creates_one_cost_centre(world):
    _, api = token(world, scopes=[TokenScope.CATALOG_READ, TokenScope.CATALOG_WRITE])
    first = post(api, OWNERS, OWNER_BODY, key="cc-7001")
    assert first.status_code == 201, first.content
    assert (first.json()["code"], first.json()["location"]) == ("CC-7001", "DE-BER")
    # The same body re-serialised (other key order, other spacing) is the same request.
    reordered = api.post(
        OWNERS,
        '{ "location": "DE-BER",  "name": "Retrieval", "code": "CC-7001" }',
        content_type="application/json",
        headers={"Idempotency-Key": "cc-7001"},
    )
    assert reordered.status_code == 201 and reordered["Idempotent-Replayed"] == "true"
    assert reordered.json() == first.json()
    with scope(organization=world.org("a")):
        assert list(BudgetOwner.objects.values_list("pk", "code")) == [(first.json()["id"], "CC-7001")]
    assert audit_count(world.org("a"), "budget_owner.created") == 1
    # Keys belong to one client: another client of the organisation with the same key runs its request (and
    # is told the code is taken); a client of another organisation creates its own cost centre.
    _, colleague = token(world, scopes=[TokenScope.CATALOG_WRITE])
    taken = post(colleague, OWNERS, OWNER_BODY, key="cc-7001")
    assert taken.status_code == 400 and "Idempotent-Replayed" not in taken
    _, other_org = token(world, "b", scopes=[TokenScope.CATALOG_WRITE])
    theirs = post(other_org, OWNERS, OWNER_BODY, key="cc-7001")
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    with scope(organization=world.org("b")):
        assert BudgetOwner.objects.get().code == "CC-7001"


def test_retried_fx_rates_are_loaded_once(world):
    _, api = token(world, scopes=[TokenScope.FX_WRITE])
    first = post(api, FX, FX_BODY, key="treasury-2026-11-02")
    assert first.status_code == 201
    assert first.json()["created"] == 1
    again = post(api, FX, FX_BODY, key="treasury-2026-11-02")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    with scope(organization=world.org("a")):
        assert list(OrgFxRate.objects.values_list("rate_e10", flat=True)) == [8_712_000_000]
    changed = {"rates": [{**FX_BODY["rates"][0], "rate": "0.8713"}]}
    assert post(api, FX, changed, key="treasury-2026-11-02").status_code == 422


def test_a_key_still_in_flight_answers_409_until_it_answers_or_goes_stale(world):
    api_client, api = token(world, scopes=[TokenScope.CATALOG_WRITE])
    organization = world.org("a")
    # Another request with the key has claimed it and not answered yet.
    claim = idempotency_claim(
        organization=organization,
        client_id=api_client.pk,
        key="slow",
        method="POST",
        path=OWNERS,
        fingerprint=request_fingerprint(method="POST", path=OWNERS, data=OWNER_BODY),
    )
    busy = post(api, OWNERS, OWNER_BODY, key="slow")
    assert busy.status_code == 409
    assert busy.json() == {
        "detail": "A request with this Idempotency-Key is still running: retry once it has answered to get its answer."
    }
    with scope(organization=organization):
        assert BudgetOwner.objects.count() == 0
        # Its process died: once the claim is older than IDEMPOTENCY_STALE_AFTER the next retry runs it.
        IdempotencyKey.objects.filter(pk=claim.record.pk).update(
            claimed_at=timezone.now() - settings.IDEMPOTENCY_STALE_AFTER - timedelta(seconds=1)
        )
    taken_over = post(api, OWNERS, OWNER_BODY, key="slow")
    assert taken_over.status_code == 201 and "Idempotent-Replayed" not in taken_over
    assert post(api, OWNERS, OWNER_BODY, key="slow")["Idempotent-Replayed"] == "true"
    with scope(organization=organization):
        assert BudgetOwner.objects.count() == 1


def test_a_server_error_is_not_stored_so_the_retry_runs(world, monkeypatch):
    from apps.owners import services

    real = services.budget_owner_create
    calls = []

    def fails_once(**kwargs):
        calls.append(kwargs["code"])
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(services, "budget_owner_create", fails_once)
    api_client, _ = token(world, scopes=[TokenScope.CATALOG_WRITE])
    api = Client(headers={"Authorization": f"Bearer {api_client.raw_token}"}, raise_request_exception=False)
    assert post(api, OWNERS, OWNER_BODY, key="retry-me").status_code == 500
    with scope(organization=world.org("a")):
        assert IdempotencyKey.objects.count() == 0
    retried = post(api, OWNERS, OWNER_BODY, key="retry-me")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert calls == ["CC-7001", "CC-7001"]


@pytest.mark.parametrize("key", ["", "x" * 256, "two words", "caf\u00e9"])
def test_an_invalid_key_is_refused_with_400(world, key):
    _, api = token(world, scopes=[TokenScope.CATALOG_WRITE])
    response = api.post(
        OWNERS, json.dumps(OWNER_BODY), content_type="application/json", headers={"Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Give an Idempotency-Key of 1 to 255 visible ASCII characters")
    with scope(organization=world.org("a")):
        assert BudgetOwner.objects.count() == 0


def test_refusals_before_the_view_store_no_key(world):
    _, read_only = token(world, scopes=[TokenScope.CATALOG_READ])
    assert post(read_only, OWNERS, OWNER_BODY, key="k").status_code == 403
    assert post(Client(), OWNERS, OWNER_BODY, key="k").status_code == 401
    with scope(organization=world.org("a")):
        assert IdempotencyKey.objects.count() == 0


def test_uploads_keep_their_own_job_based_keys(world):
    _, api = token(world, scopes=[TokenScope.USAGE_WRITE])
    line = {
        "request_id": "r-1",
        "timestamp": "2026-10-05T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 10,
        "output_tokens": 5,
    }
    url = reverse("api:usage-job-list")
    first = api.post(url, json.dumps(line), content_type="application/x-ndjson", headers={"Idempotency-Key": "u-1"})
    again = api.post(url, json.dumps(line), content_type="application/x-ndjson", headers={"Idempotency-Key": "u-1"})
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (202, 202, "true")
    assert again.json()["id"] == first.json()["id"]
    with scope(organization=world.org("a")):
        assert IdempotencyKey.objects.count() == 0  # the job holds the key, not the API's table


def test_the_purge_drops_keys_older_than_48_hours_of_every_organisation(world):
    now = timezone.now()
    retention = settings.IDEMPOTENCY_KEY_RETENTION
    assert retention == timedelta(hours=48)
    assert settings.CELERY_BEAT_SCHEDULE["tenancy-purge-idempotency-keys"]["task"] == "tenancy.purge_idempotency_keys"
    ages = {"a": [timedelta(hours=49), timedelta(hours=47)], "b": [timedelta(hours=72), timedelta(hours=1)]}
    for key, offsets in ages.items():
        organization = world.org(key)
        with scope(organization=organization):
            for index, age in enumerate(offsets):
                IdempotencyKey.objects.create(
                    organization=organization,
                    client_id=1,
                    key=f"k{index}",
                    method="POST",
                    path=OWNERS,
                    fingerprint="0" * 64,
                    status_code=201,
                    created_at=now - age,
                    claimed_at=now - age,
                )
    assert purge_idempotency_keys() == 2
    assert purge_idempotency_keys() == 0
    for key, kept in (("a", "k1"), ("b", "k1")):
        with scope(organization=world.org(key)):
            assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [kept]


def _period(world, key: str = "a"):
    organization = world.org(key)
    with scope(organization=organization):
        return BillingPeriod.objects.create(organization=organization, period=OCT)


def test_get_answers_an_etag_and_304_when_if_none_match_names_it(world):
    _period(world)
    _, api = token(world)
    for url in (PERIODS, OCTOBER):
        first = api.get(url)
        assert first.status_code == 200
        etag = first["ETag"]
        assert etag.startswith('"') and len(etag) == 34  # Django's: the quoted MD5 of the body
        assert first["Cache-Control"] == "private, no-cache"
        assert "Authorization" in first["Vary"]
        repeat = api.get(url, headers={"If-None-Match": etag})
        assert repeat.status_code == 304 and repeat.content == b""
        assert (repeat["ETag"], repeat["Cache-Control"]) == (etag, "private, no-cache")
        assert "Authorization" in repeat["Vary"]
        stale = api.get(url, headers={"If-None-Match": '"0123"'})
        assert stale.status_code == 200 and stale.content == first.content
    # A change changes the ETag: the old one no longer matches.
    assert post(api, OWNERS, OWNER_BODY).status_code == 201
    listing = api.get(OWNERS)
    assert api.get(OWNERS, headers={"If-None-Match": listing["ETag"]}).status_code == 304
    assert post(api, OWNERS, {"code": "CC-7002", "name": "Ranking"}).status_code == 201
    changed = api.get(OWNERS, headers={"If-None-Match": listing["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != listing["ETag"]
    assert [row["code"] for row in changed.json()["results"]] == ["CC-7001", "CC-7002"]


def test_another_organisations_etag_never_answers_304(world):
    _period(world, "a")
    _period(world, "b")
    _, api_a = token(world, "a")
    _, api_b = token(world, "b")
    etag_a = api_a.get(PERIODS)["ETag"]
    answer_b = api_b.get(PERIODS, headers={"If-None-Match": etag_a})
    assert answer_b.status_code == 200 and answer_b["ETag"] != etag_a


def test_errors_and_posts_carry_no_etag(world):
    _, api = token(world)
    missing = api.get(OCTOBER)
    assert missing.status_code == 404 and "ETag" not in missing
    created = post(api, OWNERS, OWNER_BODY)
    assert created.status_code == 201 and "ETag" not in created
