"""What an audit event records of a price override."""

from decimal import Decimal

from .models import PriceOverride

_CENT = Decimal("0.01")


def override_snapshot(override: PriceOverride) -> dict:
    return {
        "provider": override.provider.code,
        "model": override.model.code if override.model_id else None,
        "usage_type": override.usage_type,
        "service_tier": override.service_tier,
        "price": None if override.price is None else str(Decimal(override.price).normalize()),
        "unit": override.unit,
        "discount_pct": None if override.discount_pct is None else str(Decimal(override.discount_pct).quantize(_CENT)),
        "effective_from": override.effective_from.isoformat(),
        "effective_to": override.effective_to.isoformat() if override.effective_to else None,
        "note": override.note,
        "is_active": override.is_active,
    }
