from django.contrib import admin

from .admin_kit import ReadOnlyTenantAdmin
from .models import AuditAnchor, AuditChainCheck, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTenantAdmin):
    list_display = ["seq", "organization", "created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["organization", "action"]
    search_fields = ["actor_label", "action", "object_id"]
    ordering = ["organization", "-seq"]


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "seq", "published_at", "sinks"]
    list_filter = ["organization"]
    ordering = ["organization", "-published_at"]


@admin.register(AuditChainCheck)
class AuditChainCheckAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "checked_at", "ok", "events_checked", "anchored_seq", "alerted"]
    list_filter = ["organization", "ok"]
    ordering = ["organization", "-checked_at"]
