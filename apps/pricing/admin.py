from django.contrib import admin

from apps.audit.admin_kit import TenantAdmin

from .models import AiModel, ModelAlias, OrgModel, PriceBookVersion, PriceOverride, PriceRow, Provider


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
    """List prices come from the upstream snapshot and the corrections file (``load_price_book``); edit
    the corrections file, not the rows."""

    list_display = [
        "model",
        "region_scope",
        "service_tier",
        "usage_type",
        "price",
        "unit",
        "currency",
        "min_context_tokens",
        "effective_from",
        "effective_to",
        "origin",
    ]
    list_filter = ["provider", "service_tier", "origin", "region_scope", "usage_type"]
    list_select_related = ["model__provider"]
    search_fields = ["model__code", "usage_type"]
    date_hierarchy = "effective_from"


@admin.register(PriceOverride)
class PriceOverrideAdmin(TenantAdmin):
    list_display = [
        "organization",
        "provider",
        "model",
        "org_model",
        "usage_type",
        "service_tier",
        "price",
        "currency",
        "unit",
        "discount_pct",
        "effective_from",
        "effective_to",
        "is_active",
    ]
    list_filter = ["organization", "provider", "is_active"]
    list_select_related = ["organization", "provider", "model", "org_model"]


@admin.register(OrgModel)
class OrgModelAdmin(TenantAdmin):
    list_display = ["organization", "provider", "name", "maps_to", "is_active", "updated_at"]
    list_filter = ["organization", "provider", "is_active"]
    list_select_related = ["organization", "provider", "maps_to"]
    search_fields = ["name"]


@admin.register(PriceBookVersion)
class PriceBookVersionAdmin(admin.ModelAdmin):
    """Recorded by ``load_price_book``; read-only."""

    list_display = ["number", "upstream", "row_count", "loaded_at", "content_sha256"]
    readonly_fields = [
        "number",
        "upstream",
        "upstream_sha256",
        "content_sha256",
        "corrections_sha256",
        "row_count",
        "loaded_at",
        "diff",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
