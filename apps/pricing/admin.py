from django.contrib import admin

from apps.audit.admin_kit import TenantAdmin

from .models import AiModel, ModelAlias, PriceOverride, PriceRow, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "pricing_url"]
    search_fields = ["code", "name"]


@admin.register(AiModel)
class AiModelAdmin(admin.ModelAdmin):
    list_display = ["code", "display_name", "provider", "is_active"]
    list_filter = ["provider", "is_active"]
    search_fields = ["code", "display_name"]


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["alias", "model", "provider"]
    list_filter = ["provider"]
    list_select_related = ["model__provider", "provider"]
    search_fields = ["alias", "model__code"]


@admin.register(PriceRow)
class PriceRowAdmin(admin.ModelAdmin):
    """List prices come from the price-book file (``load_price_book``); edit the file, not the rows."""

    list_display = [
        "model",
        "service_tier",
        "usage_type",
        "price",
        "unit",
        "currency",
        "min_context_tokens",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["provider", "service_tier", "usage_type"]
    list_select_related = ["model__provider"]
    search_fields = ["model__code", "usage_type"]
    date_hierarchy = "effective_from"


@admin.register(PriceOverride)
class PriceOverrideAdmin(TenantAdmin):
    list_display = [
        "organization",
        "provider",
        "model",
        "usage_type",
        "service_tier",
        "price",
        "unit",
        "discount_pct",
        "effective_from",
        "effective_to",
        "is_active",
    ]
    list_filter = ["organization", "provider", "is_active"]
    list_select_related = ["organization", "provider", "model"]
