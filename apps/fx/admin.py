from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import Conversion, ConversionLine, FxRate, OrgFxRate


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    """ECB reference rates come from the ECB's file (``load_fx_rates``); load a newer file, never edit a rate."""

    list_display = ["day", "from_currency", "to_currency", "rate", "source", "source_detail"]
    list_filter = ["to_currency", "source"]
    search_fields = ["to_currency"]
    date_hierarchy = "day"
    readonly_fields = ["day", "from_currency", "to_currency", "rate_e10", "source", "source_detail", "loaded_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrgFxRate)
class OrgFxRateAdmin(TenantAdmin):
    list_display = ["organization", "day", "from_currency", "to_currency", "rate", "source", "created_by_label"]
    list_filter = ["organization", "source", "from_currency", "to_currency"]
    list_select_related = ["organization"]
    search_fields = ["from_currency", "to_currency", "source", "note"]
    date_hierarchy = "day"


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyTenantAdmin):
    """What runs converted: a record, read-only (a run keeps the rates it used)."""

    list_display = ["organization", "purpose", "base_currency", "policy", "fx_source", "created_at"]
    list_filter = ["organization", "policy", "fx_source"]
    list_select_related = ["organization"]
    search_fields = ["purpose"]


@admin.register(ConversionLine)
class ConversionLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "conversion", "from_currency", "to_currency", "for_day", "rate_display"]
    list_filter = ["organization", "from_currency"]
    list_select_related = ["organization", "conversion"]
    search_fields = ["from_currency"]
