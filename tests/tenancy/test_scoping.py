import pytest
from django.urls import reverse
from django_scopes import ScopeError, scope, scopes_disabled

from apps.tenancy.models import Membership
from apps.tenancy.roles import ROLE_PERMS, Perm, Role, role_has_perm

pytestmark = pytest.mark.django_db


def test_query_without_an_active_organisation_raises(world):
    with pytest.raises(ScopeError):
        Membership.objects.count()
    with pytest.raises(ScopeError):
        Membership.objects.filter(role=Role.VIEWER).first()


def test_scope_returns_only_that_organisations_rows(world):
    with scope(organization=world.org("a")):
        assert {m.organization_id for m in Membership.objects.all()} == {world.org("a").pk}
        assert Membership.objects.count() == len(Role)
    with scopes_disabled():
        assert Membership.objects.count() == 2 * len(Role)


def test_anonymous_user_is_sent_to_login(world):
    from django.test import Client

    url = reverse("portal:home", kwargs={"org_slug": world.org("a").slug})
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_organisation_is_404_like_a_foreign_one(world):
    response = world.login("a").get(reverse("portal:home", kwargs={"org_slug": "does-not-exist"}))
    assert response.status_code == 404


def test_user_in_two_organisations_can_switch(world):
    from tests.factories import MembershipFactory

    user = world.user("a", Role.VIEWER)
    with scope(organization=world.org("b")):
        MembershipFactory(organization=world.org("b"), user=user, role=Role.FINANCE_ANALYST)
    client = world.login("a", Role.VIEWER)
    switcher = client.get(reverse("portal:switcher"))
    assert switcher.status_code == 200
    assert "Alpha Corp" in switcher.content.decode() and "Beta Ltd" in switcher.content.decode()
    page_b = client.get(reverse("accounts:members", kwargs={"org_slug": world.org("b").slug}))
    assert page_b.status_code == 200
    assert page_b.context["current_membership"].role == Role.FINANCE_ANALYST


def test_single_membership_goes_straight_home(world):
    response = world.login("a", Role.BUDGET_OWNER).get(reverse("portal:switcher"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", kwargs={"org_slug": world.org("a").slug})


@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        (Role.ORG_ADMIN, Perm.MANAGE_MEMBERS, True),
        (Role.FINANCE_ADMIN, Perm.MANAGE_MEMBERS, False),
        (Role.FINANCE_ADMIN, Perm.APPROVE_PERIOD, True),
        (Role.FINANCE_ANALYST, Perm.APPROVE_PERIOD, False),
        (Role.FINANCE_ANALYST, Perm.PREPARE_PERIOD, True),
        (Role.BUDGET_OWNER, Perm.VIEW_ALL_COST, False),
        (Role.BUDGET_OWNER, Perm.OPEN_DISPUTES, True),
        (Role.VIEWER, Perm.VIEW_ALL_COST, True),
        (Role.VIEWER, Perm.INGEST, False),
        ("unknown-role", Perm.VIEW_ORG, False),
    ],
)
def test_role_table(role, perm, allowed):
    assert role_has_perm(role, perm) is allowed


def test_every_role_can_see_its_organisation():
    assert all(Perm.VIEW_ORG in perms for perms in ROLE_PERMS.values())
    assert set(ROLE_PERMS) == set(Role.values)
