from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Event, EventCounter


@admin.register(Event)
class EventAdmin(ReadOnlyTenantAdmin):
    """Events are written by the service that made the change, in its transaction; never edited."""

    list_display = ["organization", "seq", "type", "object_type", "object_id", "occurred_at", "actor_label"]
    list_filter = ["organization", "type"]
    list_select_related = ["organization"]
    search_fields = ["object_id", "type"]
    date_hierarchy = "occurred_at"


@admin.register(EventCounter)
class EventCounterAdmin(ReadOnlyTenantAdmin):
    """The last event number per organisation: moved only by ``events.emit``."""

    list_display = ["organization", "last"]
    list_select_related = ["organization"]
