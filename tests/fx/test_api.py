"""GET /api/v1/fx-rates/ (fx:read) and POST (fx:write, own rates only, Idempotency-Key)."""

import json

import pytest
from django_scopes import scope

from apps.fx.models import FxRate, OrgFxRate
from apps.tenancy.models import IdempotencyKey

pytestmark = pytest.mark.django_db
URL = "/api/v1/fx-rates/"
BODY = {"rates": [{"day": "2026-11-02", "from": "USD", "to": "EUR", "rate": "0.8712", "source": "Treasury EOD"}]}


def _post(api, body, **headers):
    return api.post(URL, data=json.dumps(body), content_type="application/json", headers=headers)


def test_ecb_rates_read(world, ecb_rates):
    api = world.api("a", ["fx:read"])
    response = api.get(URL, {"day": "2026-10-01", "to": "usd"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["day"] == "2026-10-01" and row["from"] == "EUR" and row["to"] == "USD"
    assert (row["rate"], row["source"], row["scope"]) == ("1.1298", "ECB", "global")
    assert api.get(URL, {"day": "01/10/2026"}).status_code == 400
    assert api.get(URL, {"to": "dollars"}).status_code == 400


def test_scopes(world):
    assert world.api("a", ["fx:write"]).get(URL).status_code == 403
    assert _post(world.api("a", ["fx:read"]), BODY).status_code == 403


def test_own_rates_written_for_the_token_organisation_only(world):
    api = world.api("a", ["fx:read", "fx:write"])
    response = _post(api, BODY, **{"Idempotency-Key": "treasury-2026-11-02"})
    assert response.status_code == 201
    assert response.json()["created"] == 1
    with scope(organization=world.org("a")):
        assert OrgFxRate.objects.get().rate_e10 == 8_712_000_000
    with scope(organization=world.org("b")):
        assert OrgFxRate.objects.count() == 0
    assert FxRate.objects.count() == 0  # a token never writes the ECB table
    own = api.get(URL, {"source": "Treasury EOD"}).json()["results"]
    assert [(r["from"], r["to"], r["rate"], r["scope"]) for r in own] == [("USD", "EUR", "0.8712", "own")]
    assert world.api("b", ["fx:read"]).get(URL, {"source": "Treasury EOD"}).json()["results"] == []


def test_idempotency_key_replays_and_refuses_another_body(world):
    api = world.api("a", ["fx:write"])
    first = _post(api, BODY, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201 and first.json()["created"] == 1
    # The API's stored answer (apps.tenancy.idempotency): the same status and body, marked as a replay.
    again = _post(api, BODY, **{"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = {"rates": [{**BODY["rates"][0], "rate": "0.8713"}]}
    refused = _post(api, other, **{"Idempotency-Key": "k1"})
    assert refused.status_code == 422 and "Idempotency-Key" in refused.json()["detail"]
    # Once the API's key is purged (after 48 h), the load still knows its key: the same load, 200.
    with scope(organization=world.org("a")):
        IdempotencyKey.objects.all().delete()
    late = _post(api, BODY, **{"Idempotency-Key": "k1"})
    assert late.status_code == 200 and late["Idempotent-Replayed"] == "true"
    assert late.json()["load"] == first.json()["load"]
    with scope(organization=world.org("a")):
        assert OrgFxRate.objects.get().rate_e10 == 8_712_000_000


def test_writing_the_ecb_source_or_bad_rates_is_refused(world):
    api = world.api("a", ["fx:write"])
    ecb = {"rates": [{**BODY["rates"][0], "source": "ECB"}]}
    assert _post(api, ecb).status_code == 400
    bad = {"rates": [{"day": "2026-11-02", "from": "USD", "to": "USD", "rate": "1.0"}]}
    response = _post(api, bad)
    assert response.status_code == 400 and "same currency" in response.content.decode()
    assert _post(api, {"rates": []}).status_code == 400
