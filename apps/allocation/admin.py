from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import AllocationLine, AllocationRun, RuleSet, RuleSetVersion


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


# Runs and their lines are written only by the allocation service (in one transaction, audited): read-only here.
@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "pk",
        "organization",
        "period",
        "status",
        "rule_set_version",
        "pool_total_nano",
        "unallocated_nano",
        "line_count",
        "created_at",
    ]
    list_filter = ["status", "period"]
    list_select_related = ["organization", "rule_set_version__rule_set"]


@admin.register(AllocationLine)
class AllocationLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["run", "position", "owner_code", "provider", "model", "cost_source", "method", "amount_nano"]
    list_filter = ["method", "provider", "cost_source"]
    search_fields = ["owner_code", "rule_name", "explanation"]
    list_select_related = ["organization", "run"]
