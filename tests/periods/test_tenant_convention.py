"""A periods selector refuses a call for another organisation inside a scope. That every public function
here is tenant-scoped is checked for the whole project in tests/architecture/test_tenant_convention.py."""

import pytest
from django_scopes import scope

from apps.periods import selectors
from apps.tenancy.scoping import CrossTenantCall
from tests.scenarios import OCT

pytestmark = pytest.mark.django_db


def test_a_period_of_another_organisation_is_refused_inside_a_scope(world):
    with scope(organization=world.org("a")), pytest.raises(CrossTenantCall):
        selectors.billing_period_or_unsaved(organization=world.org("b"), period=OCT)
    assert selectors.billing_period_or_unsaved(organization=world.org("b"), period=OCT).organization == world.org("b")
