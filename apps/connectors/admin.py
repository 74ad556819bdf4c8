from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import ConnectorPull, ProviderConnection


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(ReadOnlyTenantAdmin):
    """Connections are added and changed in the portal (the key is encrypted there and never shown); here they
    are read. The encrypted token is not shown either."""

    list_display = ["label", "provider", "organization", "is_active", "last_pull_status", "last_pull_finished_at"]
    list_filter = ["organization", "provider", "is_active", "last_pull_status"]
    list_select_related = ["organization"]
    search_fields = ["label"]
    exclude = ["credentials_encrypted"]


@admin.register(ConnectorPull)
class ConnectorPullAdmin(ReadOnlyTenantAdmin):
    list_display = ["pk", "connection", "organization", "trigger", "status", "pages", "results", "started_at"]
    list_filter = ["organization", "status", "trigger"]
    list_select_related = ["organization", "connection"]
    raw_id_fields = ["connection", "usage_job", "invoice_job"]
