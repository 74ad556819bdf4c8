"""The organisation's invoice reading choices."""

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record, model_snapshot
from apps.invoices.models import CostView, InvoiceSettings
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped


@tenant_scoped
@transaction.atomic
def invoice_settings_update(*, organization: Organization, actor, focus_cost_view: str) -> InvoiceSettings:
    if focus_cost_view not in CostView.values:
        raise ValidationError({"focus_cost_view": "Choose billed cost (invoice view) or effective cost (amortised)."})
    settings_row, created = InvoiceSettings.objects.select_for_update().get_or_create(organization=organization)
    before = None if created else model_snapshot(settings_row, ["focus_cost_view"])
    if not created and settings_row.focus_cost_view == focus_cost_view:
        return settings_row
    settings_row.focus_cost_view = focus_cost_view
    settings_row.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="invoices.settings_changed",
        target=settings_row,
        before=before,
        after=model_snapshot(settings_row, ["focus_cost_view"]),
    )
    return settings_row
