"""Demo reconciliations: every month that has invoices is reconciled once (acme: 2025-11 to 2026-11, where the
demo bills put openai +2.1%, google -1.4% and anthropic +6.3%, just outside the 5% tolerance). Idempotent:
a month that already has a run is left alone. The demo bills are made first (``demo_invoices``)."""

from apps.invoices.models import ProviderInvoice
from apps.tenancy.scoping import organization_scope

from .demo_invoices import seed_demo_invoices
from .models import ReconciliationRun
from .services import reconciliation_run_create


def seed_demo(*, organization, stdout) -> None:
    seed_demo_invoices(organization=organization, stdout=stdout)
    with organization_scope(organization):
        periods = sorted(set(ProviderInvoice.objects.values_list("billing_period", flat=True)))
        done = set(ReconciliationRun.objects.filter(period__in=periods).values_list("period", flat=True))
    if not periods:
        stdout.write(f"  {organization.slug}: no invoices, so nothing to reconcile")
        return
    for period in periods:
        if period in done:
            stdout.write(f"  {organization.slug}: {period:%Y-%m} already reconciled")
            continue
        run = reconciliation_run_create(organization=organization, period=period, actor=None)
        stdout.write(f"  {organization.slug}: reconciled {period:%Y-%m}: {run.get_status_display().lower()}")
