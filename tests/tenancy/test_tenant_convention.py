"""The tenant convention: services and selectors run in the scope of the organisation they are given."""

import pytest
from django_scopes import ScopeError, scope

from apps.tenancy.models import Membership
from apps.tenancy.scoping import CrossTenantCall, organization_of, tenant_scoped

pytestmark = pytest.mark.django_db


@tenant_scoped
def _member_count(*, organization):
    return Membership.objects.count()


@tenant_scoped(via="membership")
def _colleagues(*, membership):
    return sorted(m.organization_id for m in Membership.objects.all())


def test_a_scoped_function_sees_its_organisation_outside_any_scope(world):
    a, b = world.org("a"), world.org("b")
    assert _member_count(organization=a) == _count(a) > 0
    assert _member_count(organization=b) == _count(b)
    with pytest.raises(ScopeError):  # the scope ends with the call
        Membership.objects.count()


def _count(organization):
    with scope(organization=organization):
        return Membership.objects.count()


def test_via_reads_the_organisation_from_the_object(world):
    with scope(organization=world.org("a")):
        membership = Membership.objects.first()
    assert set(_colleagues(membership=membership)) == {world.org("a").pk}


def test_a_call_for_another_organisation_inside_a_scope_is_refused(world):
    with scope(organization=world.org("a")):
        assert _member_count(organization=world.org("a")) == _count(world.org("a"))
        with pytest.raises(CrossTenantCall, match="inside organisation"):
            _member_count(organization=world.org("b"))


def test_the_organisation_must_be_passed_by_keyword(world):
    with pytest.raises(TypeError, match="needs the keyword argument 'organization'"):
        _member_count(world.org("a"))


def test_organization_of_refuses_what_belongs_to_no_organisation():
    with pytest.raises(TypeError, match="neither an organisation"):
        organization_of(object())


def test_a_scope_entered_with_an_id_is_compared_by_id(world):
    a, b = world.org("a"), world.org("b")
    with scope(organization=a.pk):
        assert _member_count(organization=a) == _count(a)
        with pytest.raises(CrossTenantCall, match=f"inside organisation {a.pk}'s scope"):
            _member_count(organization=b)
