import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.pricing.models import AiModel, OrgModel, PriceOverride, Provider
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _url(name, world, key="a", **kwargs):
    return reverse(f"pricing:{name}", kwargs={"org_slug": world.org(key).slug, **kwargs})


def test_price_book_lists_current_prices_with_sources_and_filters(world, price_book):
    client = world.login("a", Role.BUDGET_OWNER)
    response = client.get(_url("book", world), {"provider": "anthropic", "model": "sonnet-4-5", "on": "2025-11-20"})
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert {r.model.code for r in rows} == {"claude-sonnet-4-5"}
    assert {r.provider.code for r in rows} == {"anthropic"}
    page = response.content.decode()
    assert "https://docs.claude.com/en/docs/about-claude/pricing" in page
    assert "prompt &gt; 200000 tokens" in page
    assert "22.50 USD" in page and "0.30 USD" in page
    # on a date before o3's price cut, the launch price shows
    response = client.get(
        _url("book", world), {"provider": "openai", "model": "o3", "tier": "standard", "on": "2025-05-01"}
    )
    prices = {r.usage_type: r.price for r in response.context["page"]}
    # (o3's file search and web search calls are list prices since the book takes genai-prices' rows)
    assert prices == {
        "input": Decimal("10"),
        "cache_read": Decimal("2.5"),
        "output": Decimal("40"),
        "file_search": Decimal("2.5"),
        "web_search": Decimal("10"),
    }


def test_price_book_is_paginated_and_has_an_empty_state(world, price_book):
    response = world.login("a", Role.VIEWER).get(_url("book", world))
    assert response.context["page"].paginator.per_page == 50
    assert response.context["page"].paginator.count > 50
    empty = world.login("a").get(_url("book", world), {"model": "no-such-model"})
    assert "No list prices match these filters" in empty.content.decode()


def test_estimate_calculator_shows_costs_by_source(world, price_book):
    response = world.login("a", Role.BUDGET_OWNER).get(
        _url("estimate", world),
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5-20250929",
            "service_tier": "standard",
            "occurred_on": "2025-11-20",
            "input_tokens": "1200",
            "output_tokens": "350",
            "cache_read_tokens": "8000",
            "cache_write_5m_tokens": "0",
            "cache_write_1h_tokens": "0",
            "tool": "web_search",
            "tool_calls": "1",
        },
    )
    assert response.status_code == 200
    results = response.context["results"]
    assert results["org"].total_nano == 21_250_000
    assert results["sources"][0] == ("input", 3_600_000, 3_600_000)
    page = response.content.decode()
    assert "<code>21250000</code>" in page and "0.02125" in page


def test_estimate_calculator_flags_unpriced_usage(world, price_book):
    response = world.login("a").get(
        _url("estimate", world),
        {
            "provider": "openai",
            "model": "gpt-9",
            "service_tier": "standard",
            "occurred_on": "2025-11-20",
            "input_tokens": "10",
            "output_tokens": "0",
            "cache_read_tokens": "0",
            "cache_write_5m_tokens": "0",
            "cache_write_1h_tokens": "0",
        },
    )
    assert response.context["results"]["org"].unpriced == ("input",)
    assert "Unpriced: input" in response.content.decode()


def test_finance_creates_edits_and_deactivates_an_override(world, price_book):
    client = world.login("a", Role.FINANCE_ANALYST)
    gpt_4o = AiModel.objects.get(provider__code="openai", code="gpt-4o")
    response = client.post(
        _url("override_create", world),
        {
            "provider": "openai",
            "model": gpt_4o.pk,
            "usage_type": "input",
            "service_tier": "",
            "price": "2.25",
            "unit": "1m_tokens",
            "discount_pct": "",
            "effective_from": "2025-07-01",
            "effective_to": "",
            "note": "OA-7731",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    with scope(organization=world.org("a")):
        override = PriceOverride.objects.get()
    assert (override.price, override.model, override.note) == (Decimal("2.25"), gpt_4o, "OA-7731")
    listing = client.get(_url("overrides", world)).content.decode()
    assert "2.25 USD per 1M tokens" in listing and "OA-7731" in listing

    response = client.post(
        _url("override_edit", world, pk=override.pk),
        {
            "provider": "openai",
            "model": gpt_4o.pk,
            "usage_type": "input",
            "price": "2.20",
            "unit": "1m_tokens",
            "effective_from": "2025-07-01",
            "note": "OA-7731 renewal",
        },
    )
    assert response.status_code == 302
    client.post(_url("override_deactivate", world, pk=override.pk))
    with scope(organization=world.org("a")):
        override.refresh_from_db()
        actions = list(AuditEvent.objects.filter(object_type="pricing.priceoverride").values_list("action", flat=True))
    assert (override.price, override.is_active) == (Decimal("2.2"), False)
    assert actions == ["price_override.created", "price_override.updated", "price_override.deactivated"]


def test_the_form_shows_service_validation_messages(world, price_book):
    response = world.login("a").post(
        _url("override_create", world),
        {
            "provider": "anthropic",
            "usage_type": "",
            "price": "3",
            "unit": "1m_tokens",
            "discount_pct": "10",
            "effective_from": "2025-01-01",
        },
    )
    assert response.status_code == 200
    assert "not both and not neither" in response.content.decode()
    with scope(organization=world.org("a")):
        assert not PriceOverride.objects.exists()


def test_only_catalog_managers_change_overrides(world, price_book):
    anthropic = Provider.objects.get(code="anthropic")
    with scope(organization=world.org("a")):
        override = PriceOverride.objects.create(
            organization=world.org("a"),
            provider=anthropic,
            discount_pct=Decimal("8"),
            effective_from=datetime.date(2025, 1, 1),
        )
    owner = world.login("a", Role.BUDGET_OWNER)
    assert owner.get(_url("overrides", world)).status_code == 200
    assert "Deactivate" not in owner.get(_url("overrides", world)).content.decode()
    assert owner.get(_url("override_create", world)).status_code == 403
    assert owner.get(_url("override_edit", world, pk=override.pk)).status_code == 403
    assert owner.post(_url("override_deactivate", world, pk=override.pk)).status_code == 403
    assert world.login("a", Role.VIEWER).post(_url("override_deactivate", world, pk=override.pk)).status_code == 403
    with scope(organization=world.org("a")):
        assert PriceOverride.objects.get().is_active


def test_finance_maintains_model_names_and_prices_an_unmapped_one_in_eur(world, price_book):
    viewer = world.login("a", Role.BUDGET_OWNER)
    page = viewer.get(_url("org_models", world)).content.decode()
    assert "No model names of our own" in page
    assert "Add a model name" not in page  # reading only
    assert viewer.get(_url("org_model_create", world)).status_code == 403

    client = world.login("a", Role.FINANCE_ANALYST)
    gpt_4o = AiModel.objects.get(provider__code="azure-openai", code="gpt-4o")
    response = client.post(
        _url("org_model_create", world),
        {"provider": "azure-openai", "name": "Globex-GPT4o-Prod", "maps_to": gpt_4o.pk, "note": "West Europe"},
    )
    assert response.status_code == 302, response.context["form"].errors
    response = client.post(_url("org_model_create", world), {"provider": "openai", "name": "ft:gpt-4o-mini:a::x1"})
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(_url("org_models", world)).content.decode()
    assert "globex-gpt4o-prod" in page and "our negotiated prices only" in page
    with scope(organization=world.org("a")):
        fine_tune = OrgModel.objects.get(name="ft:gpt-4o-mini:a::x1")
    response = client.post(
        _url("override_create", world),
        {
            "provider": "openai",
            "org_model": fine_tune.pk,
            "usage_type": "input",
            "price": "0.30",
            "unit": "1m_tokens",
            "currency": "eur",
            "effective_from": "2026-10-01",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    listing = client.get(_url("overrides", world)).content.decode()
    assert "ft:gpt-4o-mini:a::x1</code> (ours)" in listing and "0.30 EUR per 1M tokens" in listing
    estimate = client.get(
        _url("estimate", world),
        {
            "provider": "openai",
            "model": "ft:gpt-4o-mini:a::x1",
            "service_tier": "standard",
            "occurred_on": "2026-10-14",
            "input_tokens": "1000000",
            "output_tokens": "0",
            "cache_read_tokens": "0",
            "cache_write_5m_tokens": "0",
            "cache_write_1h_tokens": "0",
        },
    )
    org_price = estimate.context["results"]["org"]
    assert (org_price.total_nano, org_price.currency) == (300_000_000, "EUR")
    assert estimate.context["results"]["list"].model is None  # the list knows no such model
    # Beta sees none of Alpha's names
    other = world.login("b", Role.FINANCE_ANALYST)
    assert "globex-gpt4o-prod" not in other.get(_url("org_models", world, key="b")).content.decode()
