"""Session lifetime: short idle timeout for finance roles and org admins, longer for the others."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.sessions import LAST_SEEN_KEY, idle_timeout_seconds
from apps.tenancy.roles import Role
from tests.factories.accounts import TEST_PASSWORD

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home", kwargs={"org_slug": "alpha"})


def _idle(client: Client, minutes: float) -> None:
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time() - minutes * 60)
    session.save()


@pytest.mark.parametrize(
    ("role", "minutes"),
    [
        (Role.FINANCE_ADMIN, 30),
        (Role.FINANCE_ANALYST, 30),
        (Role.ORG_ADMIN, 30),
        (Role.BUDGET_OWNER, 480),
        (Role.VIEWER, 480),
    ],
)
def test_default_idle_timeout_per_role(world, role, minutes):
    assert idle_timeout_seconds(world.user("a", role)) == minutes * 60


def test_finance_role_in_any_organisation_makes_the_timeout_short(world):
    from django_scopes import scope

    from tests.factories import MembershipFactory

    viewer = world.user("a", Role.VIEWER)
    with scope(organization=world.org("b")):
        MembershipFactory(organization=world.org("b"), user=viewer, role=Role.FINANCE_ANALYST)
    assert idle_timeout_seconds(viewer) == 30 * 60


def test_settings_change_the_timeouts(world, settings):
    settings.SESSION_IDLE_MINUTES_FINANCE = 10
    settings.SESSION_IDLE_MINUTES = 60
    assert idle_timeout_seconds(world.user("a", Role.FINANCE_ANALYST)) == 600
    assert idle_timeout_seconds(world.user("a", Role.VIEWER)) == 3600


def test_finance_analyst_is_signed_out_after_31_idle_minutes(world):
    client = world.login("a", Role.FINANCE_ANALYST)
    assert client.get(HOME).status_code == 200
    _idle(client, 29)
    assert client.get(HOME).status_code == 200
    _idle(client, 31)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={HOME}"
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"])
    assert "You were signed out after 30 minutes without activity." in login_page.content.decode()


def test_viewer_stays_signed_in_after_31_idle_minutes_but_not_after_eight_hours(world):
    client = world.login("a", Role.VIEWER)
    client.get(HOME)
    _idle(client, 31)
    assert client.get(HOME).status_code == 200
    _idle(client, 8 * 60 + 1)
    assert client.get(HOME).status_code == 302


def test_activity_keeps_the_session_and_its_expiry_follows_the_role(world):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "alpha-finance_analyst", "password": TEST_PASSWORD})
    client.get(HOME)
    assert client.session.get_expiry_age() == 30 * 60
    viewer = Client()
    viewer.post(reverse("accounts:login"), {"username": "alpha-viewer", "password": TEST_PASSWORD})
    viewer.get(HOME)
    assert viewer.session.get_expiry_age() == 8 * 60 * 60


def test_api_tokens_carry_no_session_and_are_not_timed_out(world):
    api = world.api("a")
    assert api.get("/api/v1/organization/").status_code == 200
