import json

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.pricing.models import PriceOverride
from apps.tenancy.roles import TokenScope

pytestmark = pytest.mark.django_db

ROWS = reverse("api:price-row-list")
OVERRIDES = reverse("api:price-override-list")


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def test_price_rows_filter_by_provider_model_tier_usage_type_and_day(world, price_book):
    api = world.api("a", [TokenScope.CATALOG_READ])
    response = api.get(
        ROWS, {"provider": "openai", "model": "o3", "tier": "standard", "usage_type": "input", "on": "2025-06-09"}
    )
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {
        k: row[k]
        for k in (
            "provider",
            "model",
            "service_tier",
            "usage_type",
            "unit",
            "price",
            "currency",
            "effective_from",
            "effective_to",
            "min_context_tokens",
            "source",
        )
    } == {
        "provider": "openai",
        "model": "o3",
        "service_tier": "standard",
        "usage_type": "input",
        "unit": "1m_tokens",
        "price": "10.0000000000",
        "currency": "USD",
        "effective_from": "2025-04-16",
        "effective_to": "2025-06-10",
        "min_context_tokens": None,
        "source": "https://openai.com/api/pricing/",
    }
    detail = api.get(reverse("api:price-row-detail", kwargs={"pk": row["id"]}))
    assert detail.json()["price"] == "10.0000000000"


def test_price_rows_are_the_same_for_every_organisation_and_need_a_token(world, price_book):
    a = world.api("a", [TokenScope.CATALOG_READ]).get(ROWS, {"provider": "anthropic", "page_size": 1000}).json()
    b = world.api("b", [TokenScope.CATALOG_READ]).get(ROWS, {"provider": "anthropic", "page_size": 1000}).json()
    assert a["results"] == b["results"] and len(a["results"]) > 40
    body = json.dumps(a)
    assert world.org("a").slug not in body and world.org("b").slug not in body
    assert Client().get(ROWS).status_code in (401, 403)
    assert world.api("a", [TokenScope.ORG_READ]).get(ROWS).status_code == 403
    assert _post(world.api("a"), ROWS, {}).status_code == 405


def test_override_create_patch_and_list(world, price_book):
    api = world.api("a", [TokenScope.CATALOG_READ, TokenScope.CATALOG_WRITE])
    response = _post(
        api,
        OVERRIDES,
        {
            "provider": "openai",
            "model": "gpt-4o",
            "usage_type": "input",
            "price": "2.25",
            "unit": "1m_tokens",
            "effective_from": "2025-07-01",
            "note": "OA-7731",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["provider"], body["model"], body["price"], body["discount_pct"]) == (
        "openai",
        "gpt-4o",
        "2.2500000000",
        None,
    )
    response = _patch(api, reverse("api:price-override-detail", kwargs={"pk": body["id"]}), {"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    listed = api.get(OVERRIDES, {"provider": "openai", "active": "false"}).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    with scope(organization=world.org("a")):
        events = list(AuditEvent.objects.filter(object_type="pricing.priceoverride").order_by("seq"))
    assert [e.action for e in events] == ["price_override.created", "price_override.updated"]
    assert events[0].actor_label.startswith("api:")
    with scope(organization=world.org("b")):
        assert not PriceOverride.objects.exists()


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"provider": "openai", "discount_pct": "5"}, {"effective_from": ["This field is required."]}),
        (
            {"provider": "nobody", "discount_pct": "5", "effective_from": "2025-01-01"},
            {"provider": ["No provider has the code 'nobody'."]},
        ),
        (
            {"provider": "openai", "model": "claude-sonnet-4-5", "discount_pct": "5", "effective_from": "2025-01-01"},
            {"model": ["OpenAI has no model 'claude-sonnet-4-5'."]},
        ),
        (
            {"provider": "openai", "effective_from": "2025-01-01"},
            {"price": ["Give either a negotiated price or a discount percentage, not both and not neither."]},
        ),
    ],
)
def test_override_validation_errors(world, price_book, payload, errors):
    response = _post(world.api("a"), OVERRIDES, payload)
    assert response.status_code == 400
    assert response.json() == errors


def test_overrides_need_the_catalog_scopes(world, price_book):
    read_only = world.api("a", [TokenScope.CATALOG_READ])
    assert (
        _post(
            read_only, OVERRIDES, {"provider": "openai", "discount_pct": "5", "effective_from": "2025-01-01"}
        ).status_code
        == 403
    )
    assert world.api("a", [TokenScope.USAGE_READ]).get(OVERRIDES).status_code == 403
