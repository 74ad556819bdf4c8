from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict

from apps.audit.admin_kit import AuditedAdminMixin, ReadOnlyTenantAdmin, TenantAdmin
from apps.audit.services import audit_record, normalise_for_audit
from apps.tenancy.admin import admin_organization_ids
from apps.tenancy.models import IdempotencyKey, Membership, Organization

from .models import ApiClient, ApiKeyPrefix


@admin.register(ApiClient)
class ApiClientAdmin(TenantAdmin):
    list_display = ["name", "organization", "key_prefix", "role", "status", "expires_at", "last_used_at", "created_by"]
    list_filter = ["role", "organization"]
    search_fields = ["name", "key_prefix"]
    # Tokens are created in the portal (or by create_api_client), where the secret is shown once; here they can
    # only be inspected. A service account's role is fixed: a different role is a new token.
    readonly_fields = [
        "organization",
        "name",
        "role",
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


@admin.register(ApiKeyPrefix)
class ApiKeyPrefixAdmin(admin.ModelAdmin):
    """The global prefix table spans organisations: superusers may look, nobody edits (it follows the clients)."""

    list_display = ["key_prefix", "client_organization", "api_client_id"]
    search_fields = ["key_prefix"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Organisations and their members: tenancy's models, registered here because their admin changes are audited.


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "base_currency", "variance_tolerance_pct", "mode", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["mode"]  # switching mode is an audited action on the settings page, with a reason

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        org_ids = admin_organization_ids(request)
        return queryset if org_ids is None else queryset.filter(pk__in=org_ids)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # an organisation with history is never deleted

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        obj.save()  # a brand-new organisation has no chain to write into until it exists
        with transaction.atomic():
            audit_record(
                organization=obj,
                actor=request.user,
                action="organization.created",
                target=obj,
                after=normalise_for_audit(model_to_dict(obj)),
                reason="via Django admin",
            )


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email"]

    def get_autocomplete_fields(self, request):
        # The user lookup searches every account, so only superusers get it; an org admin chooses among
        # their organisations' members (a new member is added on the portal's Members page, by username).
        return ["user"] if request.user.is_superuser else []


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyTenantAdmin):
    """The Idempotency-Keys API clients sent with their POSTs (apps.tenancy.idempotency): written by the API
    and purged after 48 h, only inspected here (registered with the API clients they belong to)."""

    list_display = ["key", "organization", "client_id", "method", "path", "status_code", "created_at"]
    list_filter = ["organization", "status_code"]
    list_select_related = ["organization"]
    search_fields = ["key", "path"]
    date_hierarchy = "created_at"
