"""The tenant convention in owners, taxonomy, pricing and the catalog: every public service, selector and
catalog section that is given an organisation (or a row that belongs to one) runs in its scope."""

import importlib
import inspect

import pytest
from django_scopes import ScopeError, scope

from apps.owners.models import BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.pricing.selectors import price_overrides
from apps.taxonomy.selectors import dimensions_with_counts
from apps.tenancy.roles import Role
from apps.tenancy.scoping import CrossTenantCall

MODULES = [
    *(f"apps.{app}.{module}" for app in ("owners", "taxonomy", "pricing") for module in ("services", "selectors")),
    "apps.owners.catalog_io",
    "apps.taxonomy.catalog_io",
    "apps.pricing.catalog_io",
    "apps.tenancy.catalog",
]
# What carries the organisation: the organisation itself, the member, or a row of one.
CARRIERS = {"organization", "membership", "owner", "budget", "dimension", "tag_value", "alias", "override"}
# Take an organisation or a row but read nothing from the database through it.
PLAIN = {
    "apps.taxonomy.services.owner_error",  # compares ids and a flag of rows already loaded
}


def _public_functions():
    for name in MODULES:
        module = importlib.import_module(name)
        for function_name, function in vars(module).items():
            if function_name.startswith("_") or not inspect.isfunction(function):
                continue
            if getattr(function, "__wrapped__", function).__module__ != name:
                continue
            yield f"{name}.{function_name}", function


def test_every_function_given_an_organisation_or_its_row_is_tenant_scoped():
    unscoped = [
        name
        for name, function in _public_functions()
        if CARRIERS & set(inspect.signature(function).parameters)
        and name not in PLAIN
        and not hasattr(function, "tenant_via")
    ]
    assert unscoped == []


def test_the_tenant_argument_is_keyword_only():
    positional = [
        name
        for name, function in _public_functions()
        if hasattr(function, "tenant_via")
        and inspect.signature(function).parameters[function.tenant_via].kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert positional == []


@pytest.mark.django_db
def test_a_selector_reads_its_organisation_outside_any_scope_and_refuses_another(world):
    a = world.org("a")
    budget_owner = world.memberships[("b", Role.BUDGET_OWNER)]
    assert visible_owner_ids(membership=budget_owner) == set()  # owns no cost centre yet
    assert list(price_overrides(organization=a)) == []
    assert [d.key for d in dimensions_with_counts(organization=a)] == []
    with pytest.raises(ScopeError):  # the scope ended with the call
        BudgetOwner.objects.count()
    with scope(organization=a), pytest.raises(CrossTenantCall):
        visible_owner_ids(membership=budget_owner)
