"""What an audit event records of a price override or an organisation model name."""

from decimal import Decimal

from .models import OrgModel, PriceOverride

_CENT = Decimal("0.01")


def override_snapshot(override: PriceOverride) -> dict:
    return {
        "provider": override.provider.code,
        "model": override.model.code if override.model_id else None,
        **({"org_model": override.org_model.name} if override.org_model_id else {}),
        "usage_type": override.usage_type,
        "service_tier": override.service_tier,
        "price": None if override.price is None else str(Decimal(override.price).normalize()),
        "unit": override.unit,
        **({"currency": override.currency} if override.currency else {}),
        "discount_pct": None if override.discount_pct is None else str(Decimal(override.discount_pct).quantize(_CENT)),
        "effective_from": override.effective_from.isoformat(),
        "effective_to": override.effective_to.isoformat() if override.effective_to else None,
        "note": override.note,
        "is_active": override.is_active,
    }


def org_model_snapshot(org_model: OrgModel) -> dict:
    return {
        "provider": org_model.provider.code,
        "name": org_model.name,
        "maps_to": org_model.maps_to.code if org_model.maps_to_id else None,
        "note": org_model.note,
        "is_active": org_model.is_active,
    }
