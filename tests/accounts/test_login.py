import pytest
from django.test import Client
from django.urls import reverse

from apps.tenancy.roles import Role
from tests.factories.accounts import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def _attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_with_the_right_password_lands_on_the_organisation(world):
    client = Client()
    response = _attempt(client, "alpha-budget_owner", TEST_PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"], follow=True)
    assert home.request["PATH_INFO"] == reverse("portal:home", kwargs={"org_slug": "alpha"})


def test_wrong_password_is_refused_with_a_message(world):
    response = _attempt(Client(), "alpha-budget_owner", "nope")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_repeated_failures_lock_that_username_from_that_address_only(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _attempt(Client(), "alpha-budget_owner", "wrong", ip="10.9.9.9")
    # The attacker's address is locked out even with the right password...
    locked = _attempt(Client(), "alpha-budget_owner", TEST_PASSWORD, ip="10.9.9.9")
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    # ...but the victim, from their own address, still gets in: a stranger cannot lock them out.
    victim = _attempt(Client(), "alpha-budget_owner", TEST_PASSWORD, ip="10.1.1.1")
    assert victim.status_code == 302


def test_lockout_expires_by_itself(world, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _attempt(Client(), "alpha-viewer", "wrong", ip="10.2.2.2")
    assert _attempt(Client(), "alpha-viewer", TEST_PASSWORD, ip="10.2.2.2").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _attempt(Client(), "alpha-viewer", TEST_PASSWORD, ip="10.2.2.2").status_code == 302


def test_password_change_applies_djangos_validators(world):
    client = world.login("a", Role.VIEWER)
    url = reverse("accounts:password_change")
    weak = client.post(url, {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200
    messages = " ".join(weak.context["form"].errors["new_password2"])
    assert "too short" in messages and "too common" in messages and "entirely numeric" in messages
    good = "a-much-better-passphrase-42"
    ok = client.post(url, {"old_password": TEST_PASSWORD, "new_password1": good, "new_password2": good})
    assert ok.status_code == 302
    assert _attempt(Client(), "alpha-viewer", good).status_code == 302


def test_logout_needs_post_and_ends_the_session(world):
    client = world.login("a", Role.VIEWER)
    assert client.post(reverse("accounts:logout")).status_code == 302
    response = client.get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
