from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from . import services
from .models import Event, EventCounter, WebhookAttempt, WebhookDelivery, WebhookEndpoint


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


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyTenantAdmin):
    """Endpoints are registered, changed and removed in the portal or the API (URL vetting, a secret shown
    once); here they are read, disabled and enabled. The secrets are never shown."""

    list_display = ["url", "organization", "is_active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["organization", "is_active"]
    list_select_related = ["organization"]
    search_fields = ["url", "description"]
    exclude = ["secret", "previous_secret"]
    actions = ["disable", "enable"]

    def has_change_permission(self, request, obj=None):
        return obj is None  # the action form posts to the change list; no object is edited here

    @admin.action(description="Disable the selected endpoints (pending deliveries fail)")
    def disable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_disable(endpoint=endpoint, actor=request.user, reason="Disabled in the admin.")
        self.message_user(request, f"{len(queryset)} endpoint(s) disabled.")

    @admin.action(description="Enable the selected endpoints")
    def enable(self, request, queryset):
        for endpoint in queryset:
            try:
                services.endpoint_enable(endpoint=endpoint, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{endpoint.url}: {' '.join(exc.messages)}", level=messages.ERROR)
        self.message_user(request, "Enabled what could be.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ["event", "endpoint", "organization", "status", "attempts", "next_attempt_at", "last_status_code"]
    list_filter = ["organization", "status"]
    list_select_related = ["organization", "event", "endpoint"]
    actions = ["redeliver"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery, actor=request.user)
                sent += 1
            except ValidationError as exc:
                self.message_user(request, f"Delivery {delivery.pk}: {' '.join(exc.messages)}", level=messages.ERROR)
        self.message_user(request, f"{sent} delivery(ies) queued again.")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyTenantAdmin):
    list_display = ["delivery", "organization", "attempted_at", "status_code", "latency_ms", "error"]
    list_filter = ["organization"]
    list_select_related = ["organization", "delivery"]
    date_hierarchy = "attempted_at"
