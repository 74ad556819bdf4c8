"""Second factor (TOTP app + one-use recovery codes): enrolment, the step at login, the step-up before
administration, the organisation-wide requirement, the admin site, audit events; tokens unaffected."""

import re
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.tenancy.models import Membership, Organization
from apps.tenancy.permissions import SecondFactorRequired, require_org_perm
from apps.tenancy.roles import Perm, Role
from tests.factories.accounts import TEST_PASSWORD
from tests.mfa import enrol_authenticator, pass_second_factor, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:mfa_verify")
SETUP = reverse("accounts:mfa_setup")
MEMBERS = reverse("accounts:members", kwargs={"org_slug": "alpha"})
API_CLIENTS = reverse("accounts:api_clients", kwargs={"org_slug": "alpha"})
HOME = reverse("portal:home", kwargs={"org_slug": "alpha"})


def _events(world, key: str, action: str) -> list[AuditEvent]:
    with scope(organization=world.org(key)):
        return list(AuditEvent.objects.filter(action=action))


def _login(username: str) -> tuple[Client, object]:
    client = Client()
    return client, client.post(LOGIN, {"username": username, "password": TEST_PASSWORD})


# The permission check itself


@pytest.mark.parametrize("perm", [Perm.MANAGE_MEMBERS, Perm.MANAGE_API_CLIENTS, Perm.MANAGE_SETTINGS])
def test_the_permission_check_refuses_an_unverified_org_admin(world, perm):
    request = RequestFactory().get("/")
    request.user = world.user("a", Role.ORG_ADMIN)
    request.user.is_verified = lambda: False
    with scope(organization=world.org("a")):
        request.membership = Membership.objects.get(user=request.user)
    request.organization = world.org("a")
    with pytest.raises(SecondFactorRequired):
        require_org_perm(request, perm)
    assert issubclass(SecondFactorRequired, PermissionDenied)  # unhandled, it still fails closed (403)
    require_org_perm(request, Perm.VIEW_ORG)  # reading needs no second factor
    request.user.is_verified = lambda: True
    require_org_perm(request, perm)


def test_the_permission_check_asks_a_finance_admin_before_approving_not_before_preparing(world):
    request = RequestFactory().get("/")
    request.user = world.user("a", Role.FINANCE_ADMIN)
    request.user.is_verified = lambda: False
    with scope(organization=world.org("a")):
        request.membership = Membership.objects.get(user=request.user)
    request.organization = world.org("a")
    with pytest.raises(SecondFactorRequired):
        require_org_perm(request, Perm.APPROVE_PERIOD)
    require_org_perm(request, Perm.PREPARE_PERIOD)


# Pages


def test_unverified_org_admin_can_read_members_but_not_add_one(world):
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    assert client.get(MEMBERS).status_code == 200
    response = client.post(
        MEMBERS, {"username": "beta-viewer", "role": Role.VIEWER}, HTTP_REFERER=f"http://testserver{MEMBERS}"
    )
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next={quote(f'http://testserver{MEMBERS}', safe='')}"
    with scope(organization=world.org("a")):
        assert not Membership.objects.filter(user__username="beta-viewer").exists()


def test_api_clients_page_sends_an_admin_without_an_authenticator_to_enrolment(world):
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    response = client.get(API_CLIENTS)
    assert response["Location"] == f"{VERIFY}?next={quote(API_CLIENTS, safe='')}"
    enrol = client.get(response["Location"])
    assert enrol["Location"] == f"{SETUP}?next={quote(API_CLIENTS, safe='')}"


def test_the_verification_step_lets_the_admin_through_with_a_code(world):
    admin = world.user("a", Role.ORG_ADMIN)
    device = enrol_authenticator(admin)
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    wrong = client.post(VERIFY, {"otp_token": "000000", "next": API_CLIENTS})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["otp_token"] == [
        "That code is not right, or was already used. Enter the current 6-digit code from your app."
    ]
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above would make the next attempt wait a second
    device.save()
    right = client.post(VERIFY, {"otp_token": totp_code(device), "next": API_CLIENTS})
    assert right["Location"] == API_CLIENTS
    assert client.get(API_CLIENTS).status_code == 200


def test_a_code_works_once(world):
    admin = world.user("a", Role.ORG_ADMIN)
    device = enrol_authenticator(admin)
    code = totp_code(device)
    first = world.login("a", Role.ORG_ADMIN, second_factor=False)
    assert first.post(VERIFY, {"otp_token": code, "next": HOME})["Location"] == HOME
    second = world.login("a", Role.ORG_ADMIN, second_factor=False)
    assert second.post(VERIFY, {"otp_token": code, "next": HOME}).status_code == 200  # replay refused


def test_a_next_url_elsewhere_is_not_followed(world):
    admin = world.user("a", Role.ORG_ADMIN)
    device = enrol_authenticator(admin)
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    response = client.post(VERIFY, {"otp_token": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("portal:switcher")


# Login


def test_login_with_an_authenticator_goes_through_the_verification_step(world):
    admin = world.user("a", Role.FINANCE_ADMIN)
    device = enrol_authenticator(admin)
    client, response = _login("alpha-finance_admin")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next={quote(reverse('portal:switcher'), safe='')}"
    page = client.get(response["Location"])
    assert b'name="otp_token"' in page.content
    done = client.post(VERIFY, {"otp_token": totp_code(device), "next": reverse("portal:switcher")})
    assert done["Location"] == reverse("portal:switcher")
    assert client.session["otp_device_id"] == device.persistent_id


def test_login_without_an_authenticator_goes_straight_on(world):
    _client, response = _login("alpha-viewer")
    assert response["Location"] == reverse("portal:switcher")


# Enrolment, recovery codes, disabling


def _enrol(client: Client, next_url: str = HOME) -> list[str]:
    page = client.get(f"{SETUP}?next={next_url}")
    assert b"<svg" in page.content  # the QR code, drawn inline (no image service, no CDN)
    secret = page.context["secret"]
    assert re.fullmatch(r"[A-Z2-7]+", secret)
    device = TOTPDevice.objects.get(user__username=page.context["user"].username, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/AI%20chargeback%3A")
    wrong = client.post(SETUP, {"otp_token": "123456", "next": next_url})
    assert wrong.context["form"].errors["otp_token"]
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    done = client.post(SETUP, {"otp_token": totp_code(device), "next": next_url})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert b"shown only this once" in done.content
    return codes


def test_enrolment_shows_ten_recovery_codes_once_and_is_audited_in_every_organisation(world):
    from tests.factories import MembershipFactory

    admin = world.user("a", Role.FINANCE_ADMIN)
    with scope(organization=world.org("b")):
        MembershipFactory(organization=world.org("b"), user=admin, role=Role.VIEWER)
    client = world.login("a", Role.FINANCE_ADMIN, second_factor=False)
    codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", c) for c in codes)
    # The session is verified by the enrolment itself.
    assert client.get(API_CLIENTS).status_code == 403  # a finance admin has no such permission: role, not code
    assert client.get(reverse("periods:board", kwargs={"org_slug": "alpha"})).status_code == 200
    again = client.get(SETUP)
    assert b"Recovery codes left: <strong>10</strong>" in again.content
    assert not any(code.encode() in again.content for code in codes)
    for key in ("a", "b"):
        [event] = _events(world, key, "second_factor.enrolled")
        assert (event.actor_label, event.object_id, event.after) == (
            "alpha-finance_admin",
            str(admin.pk),
            {"recovery_codes": 10},
        )


def test_a_recovery_code_signs_in_once_and_is_audited(world):
    admin_client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    codes = _enrol(admin_client)
    client, response = _login("alpha-org_admin")
    assert response["Location"].startswith(VERIFY)
    used = client.post(VERIFY, {"otp_token": codes[3].upper(), "next": MEMBERS})
    assert used["Location"] == MEMBERS
    [event] = _events(world, "a", "second_factor.recovery_code_used")
    assert event.after == {"recovery_codes_left": 9}
    assert StaticToken.objects.filter(device__user__username="alpha-org_admin").count() == 9
    other, _ = _login("alpha-org_admin")
    again = other.post(VERIFY, {"otp_token": codes[3], "next": MEMBERS})
    assert again.status_code == 200 and again.context["form"].errors


def test_new_recovery_codes_replace_the_old_ones(world):
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    old = _enrol(client)
    response = client.post(reverse("accounts:mfa_recovery_codes"))
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert len(_events(world, "a", "second_factor.recovery_codes_regenerated")) == 1
    other, _ = _login("alpha-org_admin")
    assert other.post(VERIFY, {"otp_token": old[0], "next": HOME}).status_code == 200  # refused


def test_disabling_needs_a_code_and_is_audited(world):
    client = world.login("a", Role.ORG_ADMIN, second_factor=False)
    codes = _enrol(client)
    refused = client.post(reverse("accounts:mfa_disable"), {"otp_token": "99999-99999"}, follow=True)
    assert "That code is not right" in refused.content.decode()
    assert TOTPDevice.objects.filter(user__username="alpha-org_admin").exists()
    # A failure makes the next attempt wait (django-otp's throttling); this test does not wait.
    StaticDevice.objects.filter(user__username="alpha-org_admin").update(throttling_failure_count=0)
    client.post(reverse("accounts:mfa_disable"), {"otp_token": codes[0]})
    assert not TOTPDevice.objects.filter(user__username="alpha-org_admin").exists()
    assert StaticToken.objects.filter(device__user__username="alpha-org_admin").count() == 0
    assert len(_events(world, "a", "second_factor.disabled")) == 1


# The organisation-wide requirement


def test_an_organisation_can_require_it_of_every_member(world):
    Organization.objects.filter(pk=world.org("a").pk).update(require_second_factor=True)
    viewer = world.login("a", Role.VIEWER, second_factor=False)
    response = viewer.get(HOME)
    assert response["Location"] == f"{VERIFY}?next={quote(HOME, safe='')}"
    # The other organisation is not affected.
    Organization.objects.filter(pk=world.org("b").pk).update(require_second_factor=False)
    beta_viewer = world.login("b", Role.VIEWER, second_factor=False)
    assert beta_viewer.get(reverse("portal:home", kwargs={"org_slug": "beta"})).status_code == 200
    pass_second_factor(viewer, world.user("a", Role.VIEWER))
    assert viewer.get(HOME).status_code == 200


def test_the_org_admin_switches_the_requirement_on_in_settings(world):
    client = world.login("a", Role.ORG_ADMIN)
    response = client.post(
        reverse("accounts:settings", kwargs={"org_slug": "alpha"}),
        {
            "name": "Alpha Corp",
            "base_currency": "USD",
            "variance_tolerance_pct": "5",
            "period_start_day": "1",
            "require_second_factor": "on",
        },
    )
    assert response.status_code == 302
    world.org("a").refresh_from_db()
    assert world.org("a").require_second_factor is True
    [event] = _events(world, "a", "organization.updated")
    assert (event.before["require_second_factor"], event.after["require_second_factor"]) == (False, True)


def test_tokens_are_unaffected_by_the_organisation_requirement(world):
    Organization.objects.filter(pk=world.org("a").pk).update(require_second_factor=True)
    response = world.api("a").get("/api/v1/organization/")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


# The admin site


def test_the_admin_asks_staff_for_the_second_factor(world):
    user = world.user("a", Role.ORG_ADMIN)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    changelist = reverse("admin:tenancy_membership_changelist")
    response = client.get(changelist, follow=True)
    assert response.redirect_chain[-1][0].startswith(SETUP)  # via the verification step: no authenticator yet
    pass_second_factor(client, user)
    assert client.get(changelist).status_code == 200


def test_the_admin_lists_authenticators_for_superusers(world):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    enrol_authenticator(world.user("a", Role.FINANCE_ADMIN), name="Fiona's phone")
    client = Client()
    client.force_login(root)
    pass_second_factor(client, root)
    page = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert page.status_code == 200
    assert "Fiona&#x27;s phone" in page.content.decode()


def test_totp_code_helper_matches_the_library(world):
    device = enrol_authenticator(world.user("a", Role.VIEWER))
    expected = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    assert int(totp_code(device)) == expected
