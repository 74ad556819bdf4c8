"""The demo's second factor: the demo org admins and finance admins share one fixed, published TOTP secret,
so anyone trying the demo can sign in (``manage.py demo_totp USER`` prints the current code, or add the
secret to an authenticator app). Only ``seed_demo`` uses it; a real enrolment always gets a random secret."""

from base64 import b32decode

from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_TOTP_SECRET = "CHARGEBACKDEMOTOTPSECRETFORDEMO2"  # noqa: S105 - demo data, published on purpose
DEMO_DEVICE_NAME = "Demo authenticator (published secret)"


def demo_totp_key() -> str:
    return b32decode(DEMO_TOTP_SECRET).hex()


def demo_authenticator(user) -> TOTPDevice:
    """Idempotent: the user's demo device, created confirmed with the published secret."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=DEMO_DEVICE_NAME, defaults={"key": demo_totp_key(), "confirmed": True}
    )
    return device
