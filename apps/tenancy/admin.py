"""Admin base classes: every tenant-owned model is registered through ``TenantAdmin``.

Admin requests run with scopes disabled (see the middleware), so the restriction to the
organisations a staff user administers is applied here, and every change made in the admin is
written to the organisation's audit trail like any other change.
"""

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict

from apps.audit.services import _normalise, audit_record

from .models import Membership, Organization
from .roles import Perm
from .selectors import organizations_where_user_may


def _admin_org_ids(request) -> list[int] | None:
    """None means every organisation (superusers)."""
    if request.user.is_superuser:
        return None
    return [org.pk for org in organizations_where_user_may(user=request.user, perm=Perm.MANAGE_SETTINGS)]


class AuditedAdminMixin:
    def _organization_of(self, obj):
        return obj if isinstance(obj, Organization) else obj.organization

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = _normalise(model_to_dict(type(obj).objects.get(pk=obj.pk))) if change else None
            super().save_model(request, obj, form, change)
            after = _normalise(model_to_dict(obj))
            action = "changed" if change else "created"
            audit_record(
                organization=self._organization_of(obj),
                actor=request.user,
                action=f"{obj._meta.model_name}.admin_{action}",
                target=obj,
                before=before,
                after=after,
                reason="via Django admin",
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before = _normalise(model_to_dict(obj))
            organization = self._organization_of(obj)
            label, pk = obj._meta.label_lower, obj.pk
            super().delete_model(request, obj)
            audit_record(
                organization=organization,
                actor=request.user,
                action=f"{obj._meta.model_name}.admin_deleted",
                object_type=label,
                object_id=str(pk),
                before=before,
                reason="via Django admin",
            )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class TenantAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Superusers see everything; a staff user sees the organisations where the role table lets
    them manage settings (org admins). Django's per-model permissions are not used: the role
    table in ``roles.py`` is the one place that decides."""

    list_select_related = ["organization"]

    def _may(self, request, obj=None) -> bool:
        if not request.user.is_active or not request.user.is_staff:
            return False
        org_ids = _admin_org_ids(request)
        if org_ids is None:
            return True
        if obj is None:
            return bool(org_ids)
        return obj.organization_id in org_ids

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        org_ids = _admin_org_ids(request)
        return queryset if org_ids is None else queryset.filter(organization_id__in=org_ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        org_ids = _admin_org_ids(request)
        if db_field.name == "organization" and org_ids is not None:
            kwargs["queryset"] = Organization.objects.filter(pk__in=org_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyTenantAdmin(TenantAdmin):
    """For immutable data: viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "base_currency", "variance_tolerance_pct", "mode", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["mode"]  # switching mode is an audited action on the settings page, with a reason

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        org_ids = _admin_org_ids(request)
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
                after=_normalise(model_to_dict(obj)),
                reason="via Django admin",
            )


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
