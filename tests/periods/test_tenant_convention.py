"""Periods follows the tenant convention: every public service and selector runs in the scope of the
organisation it is given, by keyword, and refuses a call for another organisation inside a scope."""

import inspect

import pytest
from django_scopes import scope

from apps.periods import guards, late_data, selectors, services
from apps.tenancy.scoping import CrossTenantCall
from tests.scenarios import OCT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("module", [services, selectors, late_data, guards])
def test_every_public_function_that_reads_or_writes_is_tenant_scoped(module):
    public = [
        (name, fn)
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    ]
    assert public
    assert {name: getattr(fn, "tenant_via", None) for name, fn in public} == {
        name: ("billing_period" if name in {"timeline", "late_arrivals"} else "organization") for name, _fn in public
    }


def test_a_period_of_another_organisation_is_refused_inside_a_scope(world):
    with scope(organization=world.org("a")), pytest.raises(CrossTenantCall):
        selectors.billing_period_or_unsaved(organization=world.org("b"), period=OCT)
    assert selectors.billing_period_or_unsaved(organization=world.org("b"), period=OCT).organization == world.org("b")
