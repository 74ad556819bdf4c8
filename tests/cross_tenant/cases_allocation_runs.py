"""Cross-tenant cases for the allocation run pages and API (the models are in ``cases_allocation``)."""

from datetime import date

from django_scopes import scope

from apps.allocation.models import AllocationRun
from tests.scenarios import allocated

from . import api_route, portal_route
from .cases_allocation import make_allocation_line

FINANCE = "finance_analyst"

# Each organisation allocates its own month, so a URL built from the other organisation's month names a
# month the caller has nothing in: a 200 there could only come from the other organisation's data.
OWN_PERIOD = {"alpha": date(2026, 9, 1), "beta": date(2026, 8, 1)}


def _own_run(world, organization) -> AllocationRun:
    period = OWN_PERIOD[organization.slug]
    with scope(organization=organization):
        existing = AllocationRun.objects.filter(organization=organization, period=period).first()
    return existing or allocated(organization, period=period).run


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _period(world, organization) -> dict:
    return {"org_slug": organization.slug, "period": _own_run(world, organization).period_label}


def _owner(world, organization) -> dict:
    return {**_period(world, organization), "code": "CC-1101"}


portal_route("allocation:overview", _org)
portal_route("allocation:period", _period)
portal_route("allocation:allocate", _period, method="post", role=FINANCE)
portal_route("allocation:preview", _period, role=FINANCE)
portal_route("allocation:owner", _owner)
portal_route("allocation:unallocated", _period)


def _api_period(world, organization) -> dict:
    return {"period": _own_run(world, organization).period_label}


def _line_id(world, organization) -> int:
    """A line of the organisation's October run: both organisations have one, so the list of October's
    lines must hold the caller's line and not the other's."""
    return make_allocation_line(world, organization).pk


def _october(world, organization) -> dict:
    _line_id(world, organization)
    return {"period": "2026-10"}


api_route("api:period-allocation", _api_period)
api_route("api:period-allocation-lines", _october, row_id=_line_id)
