from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import ReconciliationLine, ReconciliationRun


# Runs are results of the reconciliation service (audited, history kept): read-only here.
@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["pk", "organization", "period", "status", "estimated_nano", "invoiced_nano", "created_at"]
    list_filter = ["status", "period"]


@admin.register(ReconciliationLine)
class ReconciliationLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["run", "level", "provider", "key", "estimated_nano", "invoiced_nano", "variance_pct"]
    list_filter = ["level", "provider"]
    list_select_related = ["organization", "run"]
