"""Settings guards of the allocation floor, registered through ``apps.tenancy.hooks`` in ``AllocationConfig.ready()``.

A run's amounts are in the base currency of the day it was computed (converted once, with the rates it stored):
once a run exists the base currency is fixed. Reconciliation runs are counted here too, from the floor above
them, so the reconciliation app needs no registration of its own.
"""

from apps.owners.guards import fixed_base_currency_message
from apps.reconciliation.models import ReconciliationRun
from apps.tenancy.scoping import tenant_scoped

from .models import AllocationRun


@tenant_scoped
def reconciliation_runs_fix_base_currency(*, organization) -> str | None:
    count = ReconciliationRun.objects.filter(organization=organization).count()
    noun = "reconciliation run" if count == 1 else "reconciliation runs"
    return fixed_base_currency_message(organization=organization, count=count, noun=noun)


@tenant_scoped
def allocation_runs_fix_base_currency(*, organization) -> str | None:
    count = AllocationRun.objects.filter(organization=organization).count()
    noun = "allocation run" if count == 1 else "allocation runs"
    return fixed_base_currency_message(organization=organization, count=count, noun=noun)
