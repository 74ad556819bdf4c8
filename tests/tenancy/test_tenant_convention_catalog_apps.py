"""Selectors of owners, pricing and taxonomy read their organisation outside any scope and refuse another one
inside a scope. The static rule (every such function is tenant-scoped, by keyword) is checked for the whole
project, catalog modules included, in tests/architecture/test_tenant_convention.py."""

import pytest
from django_scopes import ScopeError, scope

from apps.owners.models import BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.pricing.selectors import price_overrides
from apps.taxonomy.selectors import dimensions_with_counts
from apps.tenancy.roles import Role
from apps.tenancy.scoping import CrossTenantCall


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
