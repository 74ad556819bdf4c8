"""Cross-tenant cases for the pricing app. Providers, models, aliases and list prices are global
reference data (no organisation); only PriceOverride is tenant-owned."""

import datetime
from decimal import Decimal

from django_scopes import scope

from apps.pricing.models import PriceOverride
from tests.factories.pricing import AiModelFactory, ProviderFactory

from . import tenant_model


def make_price_override(world, organization) -> PriceOverride:
    provider = ProviderFactory(code="openai", name="OpenAI")
    model = AiModelFactory(provider=provider, code="gpt-4o")
    with scope(organization=organization):
        override, _ = PriceOverride.objects.get_or_create(
            organization=organization,
            provider=provider,
            model=model,
            usage_type="",
            service_tier="",
            effective_from=datetime.date(2025, 1, 1),
            defaults={"discount_pct": Decimal("10.00"), "note": f"{organization.slug} enterprise agreement"},
        )
    return override


tenant_model("pricing.priceoverride", make_price_override)
