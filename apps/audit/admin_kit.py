"""The admin base classes every tenant-owned model is registered through.

``TenantAdmin`` is the tenant scoping of ``apps.tenancy.admin.TenantScopedAdmin`` (a staff user sees and is
offered only the organisations they administer) plus the audit: every change made in the admin is written to
the organisation's audit trail like any other change. The recording lives here, on the audit floor, because
tenancy sits below audit.
"""

from django.db import transaction
from django.forms.models import model_to_dict

from apps.tenancy.admin import TenantScopedAdmin
from apps.tenancy.models import Organization

from .services import audit_record, normalise_for_audit


class AuditedAdminMixin:
    def _organization_of(self, obj):
        return obj if isinstance(obj, Organization) else obj.organization

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = normalise_for_audit(model_to_dict(type(obj).objects.get(pk=obj.pk))) if change else None
            super().save_model(request, obj, form, change)
            after = normalise_for_audit(model_to_dict(obj))
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
            before = normalise_for_audit(model_to_dict(obj))
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


class TenantAdmin(AuditedAdminMixin, TenantScopedAdmin):
    """Superusers see everything; a staff user sees the organisations where the role table lets
    them manage settings (org admins). Django's per-model permissions are not used: the role
    table in ``roles.py`` is the one place that decides. Every change is audited."""


class ReadOnlyTenantAdmin(TenantAdmin):
    """For immutable data: viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
