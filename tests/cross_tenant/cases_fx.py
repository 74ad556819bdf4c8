"""Cross-tenant cases for the fx app. The ECB reference rates are global reference data (no organisation);
an organisation's own rates and the conversions its runs recorded are tenant-owned."""

import datetime

from django_scopes import scope

from apps.fx.models import Conversion, ConversionLine, OrgFxRate

from . import api_route, portal_route, tenant_model, unscoped_admin_model


def make_org_fx_rate(world, organization) -> OrgFxRate:
    with scope(organization=organization):
        rate, _ = OrgFxRate.objects.get_or_create(
            organization=organization,
            source="Treasury EOD",
            day=datetime.date(2026, 11, 2),
            from_currency="USD",
            to_currency="EUR",
            defaults={"rate_e10": 8_712_000_000, "note": f"{organization.slug} treasury"},
        )
    return rate


def make_conversion(world, organization) -> Conversion:
    with scope(organization=organization):
        conversion, _ = Conversion.objects.get_or_create(
            organization=organization,
            purpose=f"reconciliation 2026-10 ({organization.slug})",
            defaults={"base_currency": "EUR", "policy": "usage_day", "fx_source": "ecb"},
        )
    return conversion


def make_conversion_line(world, organization) -> ConversionLine:
    conversion = make_conversion(world, organization)
    with scope(organization=organization):
        line, _ = ConversionLine.objects.get_or_create(
            organization=organization,
            conversion=conversion,
            from_currency="USD",
            for_day=datetime.date(2026, 10, 1),
            defaults={
                "to_currency": "EUR",
                "rate_day": datetime.date(2026, 10, 1),
                "rate_num": "5000",
                "rate_den": "5649",
                "rate_display": "0.885112409276",
                "quotes": {"day": "2026-10-01", "per": "EUR", "USD": "1.1298"},
                "source": "ECB",
                "amount_nano": 100_000_000_000,
                "converted_nano": 88_511_240_928,
                "amounts": 1,
            },
        )
    return line


tenant_model("fx.orgfxrate", make_org_fx_rate)
tenant_model("fx.conversion", make_conversion)
tenant_model("fx.conversionline", make_conversion_line)
unscoped_admin_model(
    "fx.fxrate",
    "the shared ECB reference rates (no tenant data): only superusers may open it (staff org admins hold no Django "
    "model permission)",
)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _own_rate_id(world, organization):
    # The list shows the rates the organisation converts with: make it one that uses its own.
    organization.fx_source = "own"
    organization.save(update_fields=["fx_source"])
    return make_org_fx_rate(world, organization).pk


portal_route("fx:exchange_rates", _org)
portal_route("fx:exchange_rates_settings", _org, method="post")
portal_route("fx:exchange_rates_upload", _org, method="post", role="finance_admin")
api_route("api:fx-rate-list", row_id=_own_rate_id)
