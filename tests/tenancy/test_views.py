from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _url(world, name, key="a", **kwargs):
    return reverse(name, kwargs={"org_slug": world.org(key).slug, **kwargs})


def _events(world, key="a", **filters):
    with scope(organization=world.org(key)):
        return list(AuditEvent.objects.filter(**filters).order_by("seq"))


def test_home_names_the_organisation_and_leaves_settings_and_members_to_their_pages(world):
    response = world.login("a", Role.BUDGET_OWNER).get(_url(world, "portal:home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Corp" in body and "Showback (visibility, no billing impact)" in body
    assert "alpha-viewer" not in body and "beta-viewer" not in body  # the members page lists them
    assert _url(world, "accounts:settings") not in body  # budget owners do not manage settings
    assert _url(world, "accounts:settings") in world.login("a").get(_url(world, "portal:home")).content.decode()


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ORG_ADMIN, 200), (Role.FINANCE_ADMIN, 403), (Role.BUDGET_OWNER, 403), (Role.VIEWER, 403)]
)
def test_settings_page_is_for_org_admins(world, role, status):
    assert world.login("a", role).get(_url(world, "accounts:settings")).status_code == status


def test_settings_change_is_saved_and_audited(world):
    response = world.login("a").post(
        _url(world, "accounts:settings"),
        {
            "name": "Alpha Corporation",
            "base_currency": "EUR",
            "variance_tolerance_pct": "3.5",
            "period_start_day": "1",
            "usage_retention_months": "13",
            "fx_policy": "month_average",
            "dispute_response_days": "14",
            "dispute_window_business_days": "7",
            "reason": "FY27",
        },
    )
    assert response.status_code == 302
    world.org("a").refresh_from_db()
    assert world.org("a").variance_tolerance_pct == Decimal("3.50")
    assert world.org("a").usage_retention_months == 13
    assert world.org("a").dispute_response_days == 14
    [event] = _events(world, action="organization.updated")
    assert event.before == {
        "name": "Alpha Corp",
        "base_currency": "USD",
        "variance_tolerance_pct": "5.00",
        "period_start_day": 1,
        "require_second_factor": False,
        "usage_retention_months": None,
        "fx_policy": "usage_day",
        "fx_source": "ecb",
        "dispute_response_days": 10,
        "dispute_window_business_days": 5,
    }
    assert event.after == {
        "name": "Alpha Corporation",
        "base_currency": "EUR",
        "variance_tolerance_pct": "3.5",
        "period_start_day": 1,
        "require_second_factor": False,
        "usage_retention_months": 13,
        "fx_policy": "month_average",
        "fx_source": "ecb",
        "dispute_response_days": 14,
        "dispute_window_business_days": 7,
    }
    assert event.reason == "FY27"
    assert event.actor_label == "alpha-org_admin"


def test_settings_reject_bad_values_and_write_nothing(world):
    response = world.login("a").post(
        _url(world, "accounts:settings"),
        {"name": "X", "base_currency": "usd", "variance_tolerance_pct": "140", "dispute_response_days": "0"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "base_currency" in errors and "variance_tolerance_pct" in errors and "dispute_response_days" in errors
    world.org("a").refresh_from_db()
    assert world.org("a").base_currency == "USD"
    assert _events(world, action="organization.updated") == []


def test_mode_switch_needs_a_reason_and_is_audited(world):
    client = world.login("a")
    client.post(_url(world, "accounts:mode_switch"), {"mode": "chargeback", "reason": ""})
    world.org("a").refresh_from_db()
    assert world.org("a").mode == "showback"
    client.post(_url(world, "accounts:mode_switch"), {"mode": "chargeback", "reason": "Variance under 5% for 3 months"})
    world.org("a").refresh_from_db()
    assert world.org("a").mode == "chargeback"
    [event] = _events(world, action="organization.mode_switched")
    assert (event.before, event.after, event.reason) == (
        {"mode": "showback"},
        {"mode": "chargeback"},
        "Variance under 5% for 3 months",
    )


def test_finance_admin_cannot_switch_mode(world):
    response = world.login("a", Role.FINANCE_ADMIN).post(
        _url(world, "accounts:mode_switch"), {"mode": "chargeback", "reason": "because"}
    )
    assert response.status_code == 403


def test_org_admin_adds_changes_and_removes_a_member(world):
    from tests.factories import UserFactory

    newcomer = UserFactory(username="newcomer")
    client = world.login("a")
    assert client.post(_url(world, "accounts:members"), {"username": "newcomer", "role": "viewer"}).status_code == 302
    with scope(organization=world.org("a")):
        membership = Membership.objects.get(user=newcomer)
    client.post(_url(world, "accounts:member_edit", pk=membership.pk), {"action": "role", "role": "finance_analyst"})
    membership.refresh_from_db()
    assert membership.role == Role.FINANCE_ANALYST
    client.post(_url(world, "accounts:member_edit", pk=membership.pk), {"action": "remove"})
    with scope(organization=world.org("a")):
        assert not Membership.objects.filter(user=newcomer).exists()
    actions = [e.action for e in _events(world, object_type="tenancy.membership")]
    assert actions == ["membership.created", "membership.role_changed", "membership.deleted"]


def test_the_last_org_admin_cannot_be_removed_or_demoted(world):
    admin_membership = world.memberships[("a", Role.ORG_ADMIN)]
    client = world.login("a")
    response = client.post(
        _url(world, "accounts:member_edit", pk=admin_membership.pk), {"action": "role", "role": "viewer"}
    )
    assert response.status_code == 200
    assert "at least one org admin" in response.content.decode()
    client.post(_url(world, "accounts:member_edit", pk=admin_membership.pk), {"action": "remove"})
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ORG_ADMIN


def test_adding_an_unknown_user_is_a_form_error(world):
    response = world.login("a").post(_url(world, "accounts:members"), {"username": "ghost", "role": "viewer"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["No active user called 'ghost'."]


def test_viewer_sees_members_but_cannot_add(world):
    client = world.login("a", Role.VIEWER)
    assert client.get(_url(world, "accounts:members")).status_code == 200
    assert client.post(_url(world, "accounts:members"), {"username": "x", "role": "viewer"}).status_code == 403
