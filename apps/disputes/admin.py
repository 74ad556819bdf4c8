from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Dispute, DisputeComment


# Disputes change only through the services (validation, adjustments, audit, e-mail): read-only here.
@admin.register(Dispute)
class DisputeAdmin(ReadOnlyTenantAdmin):
    list_display = ["pk", "statement", "owner", "amount_nano", "status", "opened_at", "organization"]
    list_filter = ["status"]
    list_select_related = ["organization", "statement", "owner"]


@admin.register(DisputeComment)
class DisputeCommentAdmin(ReadOnlyTenantAdmin):
    list_display = ["dispute", "author_label", "created_at"]
