"""Webhook deliveries: made for each subscribed endpoint when an event is emitted, sent after the commit,
retried on a published backoff schedule, each attempt logged.

The retry schedule is Svix's (docs.svix.com/retries, the reference implementation of Standard Webhooks):
an attempt at once, then after 5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours and 10 hours,
each delay counted from the failure before it: 8 attempts over 27 h 35 min 5 s, then the delivery has
failed. Only a 2xx answer within the timeout is a success (a 3xx too is a failure). An endpoint whose
attempts have failed without a single success for ``WEBHOOK_DISABLE_AFTER_DAYS`` (Svix: 5) days is
disabled, its admins told by e-mail, the audit trail records it.

Sending never holds a transaction open over the network: a send first claims its delivery by moving
``next_attempt_at`` forward by a lease (one UPDATE that only one claimant wins), makes the HTTP call, then
records the attempt. A worker that dies mid-send leaves the lease to run out, and the beat task
(``tasks.send_due``) sends it again: a lost message or a lost worker delays a delivery, never drops it.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import sending
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
SEND_DUE_BATCH = 200


def lease() -> timedelta:
    """How long a claimed delivery is left alone: the timeout, and a minute for the rest."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def payload(event: Event) -> dict:
    """The request body (Standard Webhooks shape): type, timestamp, and data with the object's id, kind,
    absolute API URL (null when the API has no page for it) and the event's number, then the event's data."""
    data = event.body_data(f"{settings.PORTAL_URL}{event.api_path}" if event.api_path else None)
    occurred = event.occurred_at.astimezone(UTC)
    return {"type": event.type, "timestamp": occurred.isoformat().replace("+00:00", "Z"), "data": data}


def body(event: Event) -> str:
    return json.dumps(payload(event), separators=(",", ":"), ensure_ascii=False)


def headers(endpoint: WebhookEndpoint, event: Event, text: str, *, sent_at) -> dict[str, str]:
    """The Standard Webhooks headers; ``sent_at`` is the real time of sending (receivers refuse a
    timestamp more than 5 minutes away from theirs)."""
    return {
        "content-type": "application/json",
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": sending.signature_header(
            endpoint.signing_secrets(sent_at), event.webhook_id, sent_at, text
        ),
    }


def fan_out(event: Event) -> None:
    """Create the event's deliveries for the organisation's active endpoints subscribed to its type, and
    send them once the transaction commits (called by ``events.emit``, in the emitting transaction)."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organization_id=event.organization_id, is_active=True)
        if event.type in endpoint.events
    ]
    if not endpoints:
        return
    now = timezone.now()
    ids = [
        WebhookDelivery.objects.create(
            organization_id=event.organization_id, endpoint=endpoint, event=event, next_attempt_at=now
        ).pk
        for endpoint in endpoints
    ]
    queue_on_commit(event.organization_id, ids)


def queue_on_commit(organization_id: int, delivery_ids: list[int]) -> None:
    def queue():
        from .tasks import send_delivery  # the task module wraps this one; imported when used

        for delivery_id in delivery_ids:
            send_delivery.delay(organization_id, delivery_id)

    transaction.on_commit(queue)


@tenant_scoped
def delivery_send(*, organization: Organization, delivery_id: int, now=None) -> WebhookAttempt | None:
    """Make the delivery's attempt if it is due at ``now`` (default: the clock) and nobody else holds it;
    the attempt made, or None. ``now`` drives the schedule (tests move it); the signature carries the
    real time of sending."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        organization=organization,
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + lease())
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(
        organization=organization, pk=delivery_id
    )
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(organization=organization, pk=delivery_id).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None
        )
        return None
    text = body(delivery.event)
    status_code, excerpt, latency_ms, error = None, "", 0, ""
    try:
        target = sending.resolve(endpoint.url)
        sent_at = timezone.now()
        answer = sending.post(
            target,
            text.encode(),
            headers(endpoint, delivery.event, text, sent_at=sent_at),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except sending.TargetRefused as exc:
        error = f"Refused: {exc}"
    except TimeoutError:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        status_code, excerpt, latency_ms = answer.status_code, answer.excerpt, answer.latency_ms
    return _record(delivery, now=now, status_code=status_code, excerpt=excerpt, latency_ms=latency_ms, error=error)


def _record(delivery: WebhookDelivery, *, now, status_code, excerpt, latency_ms, error) -> WebhookAttempt:
    organization = delivery.organization_id
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            organization_id=organization,
            delivery=delivery,
            attempted_at=now,
            status_code=status_code,
            latency_ms=latency_ms,
            response_excerpt=excerpt,
            error=error[:300],
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        endpoints = WebhookEndpoint.objects.filter(organization_id=organization, pk=delivery.endpoint_id)
        if attempt.succeeded:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
            endpoints.exclude(failing_since=None).update(failing_since=None)
        else:
            step = delivery.attempts - delivery.round_start
            if step < len(RETRY_SCHEDULE):
                delivery.next_attempt_at = now + RETRY_SCHEDULE[step]
            else:
                delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            endpoints.filter(failing_since=None).update(failing_since=now)
        delivery.save(update_fields=["attempts", "last_status_code", "status", "next_attempt_at", "updated_at"])
        if not attempt.succeeded:
            endpoint = endpoints.get()
            cutoff = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
            if endpoint.is_active and endpoint.failing_since <= cutoff:
                from .services import endpoint_disable  # same app: the audited, notified disable

                endpoint_disable(
                    endpoint=endpoint,
                    actor=None,
                    reason=f"Every attempt failed for {settings.WEBHOOK_DISABLE_AFTER_DAYS} days "
                    f"(since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC); the last: "
                    f"{status_code or error}"[:300],
                    notify=True,
                    now=now,
                )
    return attempt


@tenant_scoped
def deliveries_send_due(*, organization: Organization, now=None) -> list[WebhookAttempt]:
    """Send, in this process, every delivery of the organisation that is due at ``now``; the attempts made."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            organization=organization, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SEND_DUE_BATCH]
    )
    attempts = []
    for delivery_id in due:
        attempt = delivery_send(organization=organization, delivery_id=delivery_id, now=now)
        if attempt is not None:
            attempts.append(attempt)
    return attempts


@tenant_scoped
def deliveries_due(*, organization: Organization, now=None) -> list[int]:
    """The ids of the organisation's deliveries due at ``now`` (what the beat task queues)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            organization=organization, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SEND_DUE_BATCH]
    )
