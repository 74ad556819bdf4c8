"""The demo keeps working with the second factor: seed_demo enrols the demo admins with the published
secret and ``demo_totp`` prints the code a person then types in."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.demo import DEMO_DEVICE_NAME
from apps.portal.management.commands.seed_demo import DEMO_PASSWORD
from tests.mfa import enrol_authenticator

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_admins(db):
    """seed_demo's users and their demo authenticators, without the (slow) demo data of every app."""
    from apps.portal.management.commands import seed_demo

    command = seed_demo.Command(stdout=StringIO())
    for spec in seed_demo.ORGANIZATIONS:
        command._seed_organization(spec)


def test_seed_demo_enrols_exactly_the_admins(demo_admins):
    enrolled = set(TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME).values_list("user__username", flat=True))
    assert enrolled == {
        f"{org}-{suffix}" for org in ("acme", "globex") for suffix in ("admin", "finadmin", "finadmin2")
    }


def test_seeding_again_changes_nothing(demo_admins):
    from apps.portal.management.commands import seed_demo

    before = list(TOTPDevice.objects.order_by("pk").values_list("pk", "key"))
    seed_demo.Command(stdout=StringIO())._seed_organization(seed_demo.ORGANIZATIONS[0])
    assert list(TOTPDevice.objects.order_by("pk").values_list("pk", "key")) == before


def test_a_demo_finance_admin_signs_in_with_the_printed_code(demo_admins):
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "acme-finadmin", "password": DEMO_PASSWORD})
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    out = StringIO()
    call_command("demo_totp", "acme-finadmin", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    done = client.post(reverse("accounts:mfa_verify"), {"otp_token": code, "next": "/"})
    assert done["Location"] == "/"
    assert client.session["otp_device_id"].startswith("otp_totp.totpdevice/")


def test_demo_totp_refuses_users_with_a_real_authenticator(demo_admins, world):
    from apps.tenancy.roles import Role

    enrol_authenticator(world.user("a", Role.ORG_ADMIN))
    with pytest.raises(CommandError, match="alpha-org_admin has no demo authenticator"):
        call_command("demo_totp", "alpha-org_admin", stdout=StringIO())
