"""Reads of the price book and an organisation's overrides, and the loader of the estimator's
``PriceBook`` (the estimator itself touches no model)."""

from datetime import date

from django.db.models import Q, QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .estimator import OverrideRule, PriceBook, PriceRule
from .models import AiModel, ModelAlias, PriceOverride, PriceRow, Provider


def _in_force_on(day: date) -> Q:
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
    rows = PriceRow.objects.filter(_in_force_on(day)).select_related("provider", "model")
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


@tenant_scoped
def price_overrides(*, organization: Organization, include_inactive: bool = True) -> QuerySet[PriceOverride]:
    overrides = PriceOverride.objects.filter(organization=organization).select_related("provider", "model")
    if not include_inactive:
        overrides = overrides.filter(is_active=True)
    return overrides.order_by(
        "-is_active", "provider__code", "model__code", "usage_type", "service_tier", "effective_from"
    )


# --- the estimator's price book -------------------------------------------------------------------------


@tenant_scoped
def price_book_for(*, organization: Organization) -> PriceBook:
    """The global list prices with the organisation's active overrides, in four queries."""
    return _price_book(organization)


def list_price_book() -> PriceBook:
    """The global list prices alone (what an organisation pays before its own agreements)."""
    return _price_book(None)


def _price_book(organization: Organization | None) -> PriceBook:
    rows = [
        PriceRule(
            provider=provider,
            model=model,
            service_tier=tier,
            usage_type=usage_type,
            unit=unit,
            price=price,
            currency=currency,
            effective_from=effective_from,
            effective_to=effective_to,
            min_context_tokens=min_context_tokens,
        )
        for (
            provider,
            model,
            tier,
            usage_type,
            unit,
            price,
            currency,
            effective_from,
            effective_to,
            min_context_tokens,
        ) in PriceRow.objects.values_list(
            "provider__code",
            "model__code",
            "service_tier",
            "usage_type",
            "unit",
            "price",
            "currency",
            "effective_from",
            "effective_to",
            "min_context_tokens",
        )
    ]
    aliases = {
        (provider, alias): model
        for provider, alias, model in ModelAlias.objects.values_list("provider__code", "alias", "model__code")
    }
    models = list(AiModel.objects.values_list("provider__code", "code"))
    if organization is None:
        return PriceBook(rows, aliases, [], models=models)
    overrides = [
        OverrideRule(
            provider=provider,
            model=model,
            usage_type=usage_type,
            service_tier=tier,
            price=price,
            unit=unit,
            discount_pct=discount_pct,
            effective_from=effective_from,
            effective_to=effective_to,
            id=pk,
        )
        for (
            pk,
            provider,
            model,
            usage_type,
            tier,
            price,
            unit,
            discount_pct,
            effective_from,
            effective_to,
        ) in PriceOverride.objects.filter(organization=organization, is_active=True).values_list(
            "pk",
            "provider__code",
            "model__code",
            "usage_type",
            "service_tier",
            "price",
            "unit",
            "discount_pct",
            "effective_from",
            "effective_to",
        )
    ]
    return PriceBook(rows, aliases, overrides, models=models)
