"""Cross-tenant cases for the pricing app. Providers, models, aliases and list prices are global
reference data (no organisation); PriceOverride and OrgModel are tenant-owned."""

import datetime
from decimal import Decimal

from django_scopes import scope

from apps.pricing.models import OrgModel, PriceOverride
from tests.factories.pricing import AiModelFactory, ProviderFactory

from . import api_route, portal_route, tenant_model, unscoped_admin_model, unscoped_route


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


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _override(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_price_override(world, organization).pk}


portal_route("pricing:book", _org)
portal_route("pricing:estimate", _org)
portal_route("pricing:overrides", _org)
portal_route("pricing:override_create", _org)
portal_route("pricing:override_edit", _override)
portal_route("pricing:override_deactivate", _override, method="post")
portal_route("pricing:override_reactivate", _override, method="post")
portal_route("pricing:org_models", _org)
portal_route("pricing:org_model_create", _org)
portal_route("pricing:org_model_edit", lambda w, o: {"org_slug": o.slug, "pk": make_org_model(w, o).pk})
portal_route(
    "pricing:org_model_deactivate", lambda w, o: {"org_slug": o.slug, "pk": make_org_model(w, o).pk}, method="post"
)
portal_route(
    "pricing:org_model_reactivate", lambda w, o: {"org_slug": o.slug, "pk": make_org_model(w, o).pk}, method="post"
)

api_route("api:price-override-list", row_id=lambda w, o: make_price_override(w, o).pk)
api_route("api:price-override-detail", lambda w, o: {"pk": make_price_override(w, o).pk})

# List prices are global reference data: every organisation's token sees the same rows
# (tests/pricing/test_api.py checks that they carry nothing of any organisation).
unscoped_route("api:price-row-list", "global list prices, the same for every organisation")
unscoped_route("api:price-row-detail", "global list prices, the same for every organisation")


def make_org_model(world, organization) -> OrgModel:
    provider = ProviderFactory(code="azure-openai", name="Azure OpenAI")
    with scope(organization=organization):
        org_model, _ = OrgModel.objects.get_or_create(
            organization=organization,
            provider=provider,
            name=f"{organization.slug}-gpt4o-prod",
            defaults={"note": f"{organization.slug} deployment"},
        )
    return org_model


tenant_model("pricing.orgmodel", make_org_model)


unscoped_admin_model(
    "pricing.pricebookversion",
    "the versions of the shared list-price book (no tenant data): only superusers may open it (staff org admins "
    "hold no Django model permission)",
)
