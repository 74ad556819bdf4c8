from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Alert, ForecastSnapshot


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantAdmin):
    """Alerts are raised by the scheduled evaluations and acknowledged on the alerts page; never edited."""

    list_display = ["organization", "kind", "title", "period", "fired_at", "acknowledged_at"]
    list_filter = ["organization", "kind"]
    list_select_related = ["organization"]
    search_fields = ["title", "key"]
    date_hierarchy = "fired_at"


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(ReadOnlyTenantAdmin):
    """Snapshots are taken by the scheduled task and kept as they were: the admin only shows them."""

    list_display = ["organization", "period", "owner", "amount_nano", "lower_nano", "upper_nano", "method", "made_at"]
    list_filter = ["organization", "method"]
    list_select_related = ["organization", "owner"]
    date_hierarchy = "period"
