"""Writes of webhook endpoints and deliveries, each in one transaction with its audit event.

A secret is never written to the audit trail; the services that make one (create, rotate) return it so
that the caller shows it once."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.mail import send_mail_on_commit
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped
from apps.tenancy.selectors import member_emails

from . import sending
from .deliveries import queue_on_commit
from .models import EventType, WebhookDelivery, WebhookEndpoint

MAX_URL = 500
MAX_DESCRIPTION = 200


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }


def _clean(*, url: str, events: list[str], description: str) -> tuple[str, list[str], str]:
    errors: dict[str, str] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = "Give the URL to deliver to."
    elif len(url) > MAX_URL:
        errors["url"] = f"At most {MAX_URL} characters."
    elif refusal := sending.registration_refusal(url):
        errors["url"] = refusal
    unknown = sorted(set(events or []) - set(EventType.values))
    if unknown:
        errors["events"] = f"Unknown event type(s): {', '.join(unknown)}."
    elif not events:
        errors["events"] = "Choose at least one event type."
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"At most {MAX_DESCRIPTION} characters."
    if errors:
        raise ValidationError(errors)
    ordered = [value for value in EventType.values if value in set(events)]
    return url, ordered, description


@tenant_scoped
@transaction.atomic
def endpoint_create(
    *, organization: Organization, actor, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret (to show once)."""
    url, events, description = _clean(url=url, events=events, description=description)
    secret = sending.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        events=events,
        description=description,
        secret=secret,
        created_by=actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None),
    )
    audit_record(
        organization=organization, actor=actor, action="webhook_endpoint.created", target=endpoint,
        after=_snapshot(endpoint),
    )  # fmt: skip
    return endpoint, secret


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(organization=endpoint.organization_id, pk=endpoint.pk)


@tenant_scoped(via="endpoint")
@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, actor, url: str | None = None, events=None, description: str | None = None
) -> WebhookEndpoint:
    stored = _locked(endpoint)
    before = _snapshot(stored)
    stored.url, stored.events, stored.description = _clean(
        url=stored.url if url is None else url,
        events=stored.events if events is None else events,
        description=stored.description if description is None else description,
    )
    after = _snapshot(stored)
    if after != before:
        stored.save(update_fields=["url", "events", "description", "updated_at"])
        audit_record(
            organization=stored.organization, actor=actor, action="webhook_endpoint.updated", target=stored,
            before=before, after=after,
        )  # fmt: skip
    return stored


@tenant_scoped(via="endpoint")
@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor, now=None) -> tuple[WebhookEndpoint, str]:
    """A new secret; the one it replaces keeps signing next to it for WEBHOOK_SECRET_OVERLAP_HOURS, so a
    receiver can switch without refusing a delivery. Returns the endpoint and the new secret (shown once)."""
    now = now or timezone.now()
    stored = _locked(endpoint)
    secret = sending.new_secret()
    stored.previous_secret = stored.secret
    stored.previous_secret_expires_at = now + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    stored.secret = secret
    stored.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(
        organization=stored.organization, actor=actor, action="webhook_endpoint.secret_rotated", target=stored,
        after={"previous_secret_expires_at": stored.previous_secret_expires_at},
    )  # fmt: skip
    return stored, secret


@tenant_scoped(via="endpoint")
@transaction.atomic
def endpoint_disable(
    *, endpoint: WebhookEndpoint, actor, reason: str = "", notify: bool = False, now=None
) -> WebhookEndpoint:
    """Stop delivering to the endpoint; its pending deliveries fail. ``notify`` e-mails the organisation's
    admins (the automatic disable of an endpoint that kept failing)."""
    now = now or timezone.now()
    stored = _locked(endpoint)
    if not stored.is_active:
        return stored
    stored.is_active, stored.disabled_at = False, now
    stored.disabled_reason = (reason or "Disabled by an admin.")[:300]
    stored.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(
        organization=stored.organization_id, endpoint=stored, status=WebhookDelivery.Status.PENDING
    ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    audit_record(
        organization=stored.organization, actor=actor, action="webhook_endpoint.disabled", target=stored,
        before={"is_active": True}, after={"is_active": False}, reason=stored.disabled_reason,
    )  # fmt: skip
    if notify:
        _notify_disabled(stored)
    return stored


def _notify_disabled(endpoint: WebhookEndpoint) -> None:
    organization = endpoint.organization
    recipients = member_emails(organization=organization, role=Role.ORG_ADMIN)
    if not recipients:
        return
    link = settings.PORTAL_URL + reverse("webhooks:endpoint", kwargs={"org_slug": organization.slug, "pk": endpoint.pk})
    subject = f"[{organization.name}] Webhook endpoint disabled: {endpoint.url}"[:200]
    body = (
        f"The webhook endpoint {endpoint.url} of {organization.name} was disabled.\n\n"
        f"{endpoint.disabled_reason}\n\n"
        f"Nothing more is sent to it. Fix the receiver, then enable it again: {link}\n"
    )
    send_mail_on_commit(subject, body, recipients)


@tenant_scoped(via="endpoint")
@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """Deliver to the endpoint again (new events; failed deliveries can be redelivered one by one)."""
    stored = _locked(endpoint)
    if stored.is_active:
        return stored
    if refusal := sending.registration_refusal(stored.url):
        raise ValidationError({"url": refusal})
    stored.is_active, stored.disabled_at, stored.disabled_reason, stored.failing_since = True, None, "", None
    stored.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since", "updated_at"])
    audit_record(
        organization=stored.organization, actor=actor, action="webhook_endpoint.enabled", target=stored,
        before={"is_active": False}, after={"is_active": True},
    )  # fmt: skip
    return stored


@tenant_scoped(via="endpoint")
@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    """Remove the endpoint with its deliveries and their attempts (the audit trail keeps the record)."""
    stored = _locked(endpoint)
    audit_record(
        organization=stored.organization, actor=actor, action="webhook_endpoint.deleted", target=stored,
        before=_snapshot(stored),
    )  # fmt: skip
    stored.delete()


@tenant_scoped(via="delivery")
@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor, now=None) -> WebhookDelivery:
    """Send the delivery again, now, with a new round of the retry schedule (the same webhook-id, so a
    receiver that already processed it can tell)."""
    now = now or timezone.now()
    stored = WebhookDelivery.objects.select_for_update().get(organization=delivery.organization_id, pk=delivery.pk)
    if not stored.endpoint.is_active:
        raise ValidationError("The endpoint is disabled: enable it before redelivering.")
    before = {"status": stored.status, "attempts": stored.attempts}
    stored.status, stored.round_start, stored.next_attempt_at = WebhookDelivery.Status.PENDING, stored.attempts, now
    stored.save(update_fields=["status", "round_start", "next_attempt_at", "updated_at"])
    audit_record(
        organization=stored.organization, actor=actor, action="webhook_delivery.redelivered", target=stored,
        before=before, after={"status": stored.status, "event": stored.event.webhook_id},
    )  # fmt: skip
    queue_on_commit(stored.organization_id, [stored.pk])
    return stored
