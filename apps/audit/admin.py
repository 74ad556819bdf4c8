from django.contrib import admin

from .admin_kit import ReadOnlyTenantAdmin
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTenantAdmin):
    list_display = ["seq", "organization", "created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["organization", "action"]
    search_fields = ["actor_label", "action", "object_id"]
    ordering = ["organization", "-seq"]
