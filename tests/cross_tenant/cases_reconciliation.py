"""Cross-tenant cases for the reconciliation app."""

from datetime import date

from django_scopes import scope

from apps.reconciliation.services import reconciliation_run_create
from tests.factories.reconciliation import ReconciliationLineFactory, ReconciliationRunFactory

from . import api_route, portal_route, tenant_model

FINANCE = "finance_analyst"

# Each organisation reconciles its own month, so asking for the other organisation's month finds nothing
# of the caller's: a 200 there could only come from the other organisation's run.
OWN_PERIOD = {"alpha": date(2026, 9, 1), "beta": date(2026, 10, 1)}


def make_run(world, organization):
    with scope(organization=organization):
        return ReconciliationRunFactory(
            organization=organization, period=OWN_PERIOD.get(organization.slug, date(2026, 8, 1))
        )


def make_line(world, organization):
    with scope(organization=organization):
        return ReconciliationLineFactory(run=make_run(world, organization))


tenant_model("reconciliation.reconciliationrun", make_run)
tenant_model("reconciliation.reconciliationline", make_line)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _run(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_run(world, organization).pk}


portal_route("reconciliation:overview", _org)
portal_route("reconciliation:run_create", _org, method="post", role=FINANCE)
portal_route("reconciliation:run_detail", _run)
portal_route("reconciliation:run_export", _run)
portal_route("reconciliation:run_conversion_export", _run)


def _period(world, organization) -> dict:
    """A real run (through the service) in the organisation's own month; the other org has none there."""
    period = OWN_PERIOD[organization.slug]
    reconciliation_run_create(organization=organization, period=period, actor=None)
    return {"period": f"{period:%Y-%m}"}


api_route("api:period-reconciliation", _period)
