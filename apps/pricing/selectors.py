"""Reads of the price book and an organisation's overrides, and the loader of the estimator's
``PriceBook`` (the estimator itself touches no model)."""

from datetime import date
from types import SimpleNamespace

from django.db.models import Q, QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .book_file import price_rule
from .estimator import OverrideRule, PriceBook
from .models import AiModel, ModelAlias, OrgModel, PriceBookVersion, PriceOverride, PriceRow, Provider


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
        # an exact code picks that model (o3, not also o3-pro); otherwise a part of the code matches
        exact = AiModel.objects.filter(code__iexact=model)
        if provider:
            exact = exact.filter(provider__code=provider)
        rows = rows.filter(model__code__iexact=model) if exact.exists() else rows.filter(model__code__icontains=model)
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
    overrides = PriceOverride.objects.filter(organization=organization).select_related("provider", "model", "org_model")
    if not include_inactive:
        overrides = overrides.filter(is_active=True)
    return overrides.order_by(
        "-is_active", "provider__code", "model__code", "usage_type", "service_tier", "effective_from"
    )


# --- the estimator's price book -------------------------------------------------------------------------


@tenant_scoped
def price_book_for(*, organization: Organization) -> PriceBook:
    """The global list prices with the organisation's active model names and overrides, in six queries;
    ``book.version`` is the number of the price-book version it holds."""
    return _price_book(organization)


def list_price_book() -> PriceBook:
    """The global list prices alone (what an organisation pays before its own agreements)."""
    return _price_book(None)


_RULE_FIELDS = (
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
    "region_scope",
)


def _price_book(organization: Organization | None) -> PriceBook:
    rows = [
        rule
        for rule in (
            price_rule(SimpleNamespace(**dict(zip(_RULE_FIELDS, values, strict=True))))
            for values in PriceRow.objects.values_list(
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
                "region_scope",
            )
        )
        if rule is not None
    ]
    aliases = {
        (provider, alias): model
        for provider, alias, model in ModelAlias.objects.values_list("provider__code", "alias", "model__code")
    }
    models = list(AiModel.objects.values_list("provider__code", "code"))
    overrides: list[OverrideRule] = []
    if organization is not None:
        # The organisation's own names first: a deployment or fine-tune name mapped to a list model is
        # an alias of it (winning over a global alias of the same name); an unmapped name is a model of
        # its own that only the organisation's overrides price.
        for provider, name, maps_to in OrgModel.objects.filter(organization=organization, is_active=True).values_list(
            "provider__code", "name", "maps_to__code"
        ):
            if maps_to:
                aliases[(provider, name)] = maps_to
            else:
                aliases.pop((provider, name), None)
                models.append((provider, name))
        overrides = [
            OverrideRule(
                provider=provider,
                model=model or org_model,
                usage_type=usage_type,
                service_tier=tier,
                price=price,
                unit=unit,
                discount_pct=discount_pct,
                effective_from=effective_from,
                effective_to=effective_to,
                id=pk,
                currency=currency,
            )
            for (
                pk,
                provider,
                model,
                org_model,
                usage_type,
                tier,
                price,
                unit,
                currency,
                discount_pct,
                effective_from,
                effective_to,
            ) in PriceOverride.objects.filter(organization=organization, is_active=True)
            .exclude(org_model__is_active=False)
            .values_list(
                "pk",
                "provider__code",
                "model__code",
                "org_model__name",
                "usage_type",
                "service_tier",
                "price",
                "unit",
                "currency",
                "discount_pct",
                "effective_from",
                "effective_to",
            )
        ]
    book = PriceBook(rows, aliases, overrides, models=models)
    # Which list-price version priced what: the estimates of this book record its number.
    book.version = current_version_number()
    return book


def current_version_number() -> int | None:
    return PriceBookVersion.objects.order_by("-number").values_list("number", flat=True).first()


def price_book_versions() -> QuerySet[PriceBookVersion]:
    return PriceBookVersion.objects.order_by("-number")


@tenant_scoped
def org_models(*, organization: Organization, include_inactive: bool = True) -> QuerySet[OrgModel]:
    rows = OrgModel.objects.filter(organization=organization).select_related("provider", "maps_to")
    if not include_inactive:
        rows = rows.filter(is_active=True)
    return rows.order_by("-is_active", "provider__code", "name")
