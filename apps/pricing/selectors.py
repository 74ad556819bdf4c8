"""Reads of the price book and an organisation's overrides."""

from datetime import date

from django.db.models import Q, QuerySet

from apps.tenancy.models import Organization

from .models import AiModel, PriceOverride, PriceRow, Provider


def in_force_on(day: date) -> Q:
    return Q(effective_from__lte=day) & (Q(effective_to__isnull=True) | Q(effective_to__gt=day))


def price_rows_in_force(
    *,
    day: date,
    provider: str = "",
    model: str = "",
    service_tier: str = "",
    usage_type: str = "",
    include_retired: bool = False,
) -> QuerySet[PriceRow]:
    """List prices in force on ``day``, optionally for one provider/model (codes) or tier."""
    rows = PriceRow.objects.filter(in_force_on(day)).select_related("provider", "model")
    if provider:
        rows = rows.filter(provider__code=provider)
    if model:
        rows = rows.filter(model__code__icontains=model)
    if service_tier:
        rows = rows.filter(service_tier=service_tier)
    if usage_type:
        rows = rows.filter(usage_type=usage_type)
    if not include_retired:
        rows = rows.filter(model__is_active=True)
    return rows.order_by(
        "provider__code", "model__code", "service_tier", "min_context_tokens", "usage_type", "effective_from"
    )


def providers() -> QuerySet[Provider]:
    return Provider.objects.order_by("code")


def ai_models() -> QuerySet[AiModel]:
    return AiModel.objects.select_related("provider").order_by("provider__code", "code")


def price_overrides(*, organization: Organization, include_inactive: bool = True) -> QuerySet[PriceOverride]:
    overrides = PriceOverride.objects.filter(organization=organization).select_related("provider", "model")
    if not include_inactive:
        overrides = overrides.filter(is_active=True)
    return overrides.order_by(
        "-is_active", "provider__code", "model__code", "usage_type", "service_tier", "effective_from"
    )
