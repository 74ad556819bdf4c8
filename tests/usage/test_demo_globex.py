"""globex buys its OpenAI models through Azure OpenAI: its demo usage names the provider azure-openai, so its
MACC price override (12% off the Azure list) prices it; acme's demo usage is unchanged by the option."""

import datetime
import hashlib
import io
import json
from io import StringIO

import pytest
from django.db.models import Count
from django_scopes import scope

from apps.pricing.demo import seed_demo as pricing_seed
from apps.usage.demo import seed_demo as usage_seed
from apps.usage.models import DailyUsage, UsageRecord
from apps.usage.synthetic import generate_events
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def _digest(events) -> str:
    text = io.StringIO()
    for event in events:
        text.write(json.dumps(event, separators=(",", ":")))
    return hashlib.sha256(text.getvalue().encode()).hexdigest()


def test_renaming_a_provider_changes_only_globex():
    start = datetime.date(2026, 9, 1)
    plain = list(generate_events(count=400, start=start, days=30, seed=7))
    assert _digest(generate_events(count=400, start=start, days=30, seed=7, provider_names=None)) == _digest(plain)
    renamed = list(generate_events(count=400, start=start, days=30, seed=7, provider_names={"openai": "azure-openai"}))
    assert {event["provider"] for event in plain} == {"anthropic", "openai", "google"}
    assert {event["provider"] for event in renamed} == {"anthropic", "azure-openai", "google"}
    # the book lists no Azure batch prices: no azure-openai batch request
    assert {event["service_tier"] for event in renamed if event["provider"] == "azure-openai"} == {"standard"}


def test_globex_demo_usage_is_azure_openai_priced_with_its_macc_discount():
    globex = OrganizationFactory(slug="globex", base_currency="EUR")
    pricing_seed(organization=globex, stdout=StringIO())
    usage_seed(organization=globex, stdout=StringIO())
    with scope(organization=globex):
        providers = dict(DailyUsage.objects.values_list("provider").annotate(n=Count("id")).order_by())
        assert set(providers) == {"anthropic", "azure-openai", "google"}
        azure = UsageRecord.objects.filter(provider="azure-openai")
        assert set(azure.values_list("model", "currency").distinct()) == {("gpt-4o", "USD"), ("gpt-4o-mini", "USD")}
        assert not azure.filter(unpriced=True).exists()
        # Azure Global list 2.50 / 0.15 USD per million input tokens, 12% off: 2,200 and 132 nano-dollars a token.
        for model, nano_per_token in (("gpt-4o", 2_200), ("gpt-4o-mini", 132)):
            rows = list(azure.filter(model=model).values_list("input_tokens", "cost_input_nano"))
            assert rows and all(cost == tokens * nano_per_token for tokens, cost in rows)
