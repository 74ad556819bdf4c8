"""The demo's webhook endpoint: the ERP's receiver on loopback, registered and left disabled (nothing
listens there until someone starts a receiver; the README's ERP walkthrough shows one). Enabled, it gets the
period and journal events. Loopback is refused where ``WEBHOOK_ALLOW_LOOPBACK`` is off (production): the
demo then registers nothing and says so. Idempotent: a second run finds the endpoint."""

from django.core.exceptions import ValidationError

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .models import EventType, WebhookEndpoint
from .services import endpoint_create, endpoint_disable

DEMO_ENDPOINT_URL = "http://127.0.0.1:9000/erp/webhooks"
DEMO_ENDPOINT_EVENTS = [
    EventType.PERIOD_CLOSED,
    EventType.PERIOD_REOPENED,
    EventType.STATEMENT_FINALIZED,
    EventType.JOURNAL_READY,
]
DEMO_DISABLED_REASON = (
    "Demo endpoint: nothing listens on 127.0.0.1:9000 until you start a receiver. Enable it then "
    "(README, ERP integration)."
)
# Only the chargeback organisation has journals to announce.
DEMO_ORGANIZATIONS = ("acme",)


def seed_demo(*, organization: Organization, stdout) -> None:
    if organization.slug not in DEMO_ORGANIZATIONS:
        return
    with organization_scope(organization):
        if WebhookEndpoint.objects.filter(url=DEMO_ENDPOINT_URL).exists():
            stdout.write(f"  {organization.slug}: webhook endpoint {DEMO_ENDPOINT_URL} exists")
            return
        try:
            endpoint, secret = endpoint_create(
                organization=organization,
                actor=None,
                url=DEMO_ENDPOINT_URL,
                events=[str(event) for event in DEMO_ENDPOINT_EVENTS],
                description="ERP connector (demo receiver on loopback)",
            )
        except ValidationError as refused:
            stdout.write(f"  {organization.slug}: no demo webhook endpoint: {' '.join(refused.messages)}")
            return
        endpoint_disable(endpoint=endpoint, actor=None, reason=DEMO_DISABLED_REASON)
    stdout.write(
        f"  {organization.slug}: webhook endpoint {DEMO_ENDPOINT_URL} registered, disabled until a receiver "
        f"listens; its signing secret, shown this once: {secret}"
    )
