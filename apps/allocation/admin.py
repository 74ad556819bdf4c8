from django.contrib import admin

from apps.tenancy.admin import ReadOnlyTenantAdmin, TenantAdmin

from .models import RuleSet, RuleSetVersion


@admin.register(RuleSet)
class RuleSetAdmin(TenantAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name"]


# Versions change only through the services (validation, numbering, publish, audit): read-only here.
@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(ReadOnlyTenantAdmin):
    list_display = ["rule_set", "number", "status", "true_up_mode", "published_at", "organization"]
    list_filter = ["status", "true_up_mode"]
    list_select_related = ["organization", "rule_set"]
