"""Cross-tenant cases for the periods app."""

from django_scopes import scope

from apps.periods.models import BillingPeriod

from . import tenant_model
from .cases_allocation import make_allocation_run


def make_billing_period(world, organization) -> BillingPeriod:
    run = make_allocation_run(world, organization)
    with scope(organization=organization):
        return BillingPeriod.objects.get(pk=run.billing_period_id)


tenant_model("periods.billingperiod", make_billing_period)
