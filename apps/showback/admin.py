from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Alert


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantAdmin):
    """Alerts are raised by the scheduled evaluations and acknowledged on the alerts page; never edited."""

    list_display = ["organization", "kind", "title", "period", "fired_at", "acknowledged_at"]
    list_filter = ["organization", "kind"]
    list_select_related = ["organization"]
    search_fields = ["title", "key"]
    date_hierarchy = "fired_at"
