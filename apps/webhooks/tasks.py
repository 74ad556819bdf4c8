"""Webhook sending on Celery: thin wrappers that enter the organisation's scope and call ``deliveries``."""

import logging

from celery import shared_task

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .deliveries import deliveries_due, delivery_send

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.send_delivery")
def send_delivery(organization_id: int, delivery_id: int) -> dict:
    """One attempt of one delivery, if it is due and nobody else holds it (safe to run twice)."""
    organization = Organization.objects.get(pk=organization_id)
    with organization_scope(organization):
        attempt = delivery_send(organization=organization, delivery_id=delivery_id)
    if attempt is None:
        return {"delivery": delivery_id, "sent": False}
    return {"delivery": delivery_id, "sent": True, "status_code": attempt.status_code, "error": attempt.error}


@shared_task(name="webhooks.send_due")
def send_due() -> dict[str, int]:
    """Beat: queue every delivery that is due (retries, and first sends whose message was lost). A delivery
    queued twice is sent once: the send claims it first."""
    queued: dict[str, int] = {}
    for organization in Organization.objects.order_by("pk"):
        try:
            with organization_scope(organization):
                due = deliveries_due(organization=organization)
        except Exception:
            logger.exception("Listing the due webhook deliveries of %s failed", organization.slug)
            continue
        for delivery_id in due:
            send_delivery.delay(organization.pk, delivery_id)
        if due:
            queued[organization.slug] = len(due)
    return queued
