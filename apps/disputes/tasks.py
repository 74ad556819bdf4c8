"""Disputes' scheduled work (CELERY_BEAT_SCHEDULE): a thin wrapper that loops over the organisations, enters each
one's scope and calls the idempotent service."""

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .reminders import dispute_deadline_reminders_send

logger = logging.getLogger(__name__)


@shared_task(name="disputes.remind_deadlines")
def remind_deadlines(now: str | None = None) -> dict[str, int]:
    """Hourly: remind budget owners of draft statements whose dispute window closes within a day. Each
    statement is reminded once (its marker); one organisation's failure is logged and does not stop the others.
    ``now`` (ISO 8601, for a replay or a test): the moment to remind as of; the current time without it.
    Returns {slug: statements reminded}."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    reminded: dict[str, int] = {}
    for organization in Organization.objects.order_by("slug"):
        try:
            with organization_scope(organization):
                reminded[organization.slug] = dispute_deadline_reminders_send(organization=organization, now=moment)
        except Exception:
            logger.exception("Reminding the dispute deadlines of %s failed", organization.slug)
            reminded[organization.slug] = -1
    return reminded
