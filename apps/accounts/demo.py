"""The demo's second factor: the demo org admins and finance admins share one fixed, published TOTP secret,
so anyone trying the demo can sign in (``manage.py demo_totp USER`` prints the current code, or add the
secret to an authenticator app). Only ``seed_demo`` uses it; a real enrolment always gets a random secret.
And the demo's ERP service account (``seed_demo_erp_client``)."""

from base64 import b32decode
from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenancy.scoping import organization_scope

from .models import ApiClient
from .services import api_client_create

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


# --- the demo's ERP service account -------------------------------------------------------------------

ERP_CLIENT_NAME = "ERP connector (demo)"
ERP_CLIENT_ROLE = "finance_analyst"
ERP_CLIENT_SCOPES = ["statements:read", "journal:read", "journal:write", "events:read"]
ERP_CLIENT_DAYS = 365
# Only the chargeback organisation books journals; globex (showback) gets no ERP connector.
ERP_CLIENT_ORGANIZATIONS = ("acme",)


def seed_demo_erp_client(*, organization, stdout) -> None:
    """The ERP's service account (a finance analyst's role, the scopes an ERP connector needs). Its token is
    printed once, when it is made; a second seeding finds it and says how to get a token again."""
    if organization.slug not in ERP_CLIENT_ORGANIZATIONS:
        return
    with organization_scope(organization):
        if ApiClient.objects.filter(name=ERP_CLIENT_NAME).exists():
            stdout.write(
                f"  {organization.slug}: API client {ERP_CLIENT_NAME!r} exists (its token was shown once; "
                "`manage.py create_api_client` makes another)"
            )
            return
        _client, token = api_client_create(
            organization=organization,
            actor=None,
            name=ERP_CLIENT_NAME,
            scopes=ERP_CLIENT_SCOPES,
            role=ERP_CLIENT_ROLE,
            expires_at=timezone.now() + timedelta(days=ERP_CLIENT_DAYS),
        )
    stdout.write(
        f"  {organization.slug}: API client {ERP_CLIENT_NAME!r} ({ERP_CLIENT_ROLE}, {' '.join(ERP_CLIENT_SCOPES)}); "
        f"its token, shown this once: {token}"
    )
