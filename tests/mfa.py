"""Passing the second factor in tests the way a person does: an enrolled authenticator (a TOTP device
with its own secret) and its current code posted to the verification step."""

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def enrol_authenticator(user, name: str = "test authenticator") -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=name, confirmed=True)


def pass_second_factor(client: Client, user) -> None:
    """Confirm a real code through the verification page. A code is good once per 30-second step, so a
    person logged in twice in the same step gets another authenticator (as if from a second phone)."""
    device = enrol_authenticator(user)
    response = client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/", "the second factor was refused"


def signed_in_with_second_factor(user) -> Client:
    """A session of the person, signed in and past the second step (the admin asks every staff member)."""
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    return client
