from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyTenantAdmin):
    """Jobs are recorded by the pages, the API and the commands that ask for heavy work, and moved only by the
    worker that runs them; a failed one is retried from its page."""

    list_display = ["pk", "organization", "kind", "title", "status", "attempts", "created_by_label", "created_at"]
    list_filter = ["organization", "kind", "status"]
    list_select_related = ["organization"]
    search_fields = ["title", "kind", "error_message"]
    date_hierarchy = "created_at"
