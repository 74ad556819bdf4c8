from django.contrib import admin

from apps.tenancy.admin import TenantAdmin

from .models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(TenantAdmin):
    list_display = ["name", "organization", "key_prefix", "status", "expires_at", "last_used_at", "created_by"]
    list_filter = ["organization"]
    search_fields = ["name", "key_prefix"]
    # Tokens are created in the portal, where the secret is shown once; here they can only be inspected.
    readonly_fields = [
        "organization",
        "name",
        "key_prefix",
        "token_hash",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False
