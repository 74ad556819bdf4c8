"""Cross-tenant cases for the periods app."""

from datetime import date

from django.db import transaction
from django_scopes import scope

from apps.periods.models import BillingPeriod, LateArrival
from apps.periods.services import period_for_update
from tests.factories.periods import LateArrivalFactory

from . import api_route, portal_route, tenant_model
from .cases_allocation import make_allocation_run

FINANCE = "finance_analyst"

# Each organisation has its own month, so a URL built from the other organisation's month names a month the
# caller has nothing in: a 200 there could only come from the other organisation's period.
OWN_PERIOD = {"alpha": date(2026, 7, 1), "beta": date(2026, 6, 1)}


def make_billing_period(world, organization) -> BillingPeriod:
    run = make_allocation_run(world, organization)
    with scope(organization=organization):
        return BillingPeriod.objects.get(pk=run.billing_period_id)


def own_period(world, organization) -> BillingPeriod:
    with transaction.atomic():
        return period_for_update(organization=organization, period=OWN_PERIOD[organization.slug])


def make_late_arrival(world, organization) -> LateArrival:
    billing_period = own_period(world, organization)
    with scope(organization=organization):
        return LateArrivalFactory(billing_period=billing_period, job_id=1)


tenant_model("periods.billingperiod", make_billing_period)
tenant_model("periods.latearrival", make_late_arrival)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _period(world, organization) -> dict:
    return {"org_slug": organization.slug, "period": own_period(world, organization).label}


portal_route("periods:board", _org)
portal_route("periods:detail", _period)
portal_route("periods:timeline", _period)
portal_route("periods:transition", _period, method="post", role=FINANCE)


def _api_period(world, organization) -> dict:
    return {"period": own_period(world, organization).label}


api_route("api:period-list", row_id=lambda world, organization: own_period(world, organization).pk)
api_route("api:period-detail", _api_period)
api_route("api:period-transitions", _api_period, method="post")
