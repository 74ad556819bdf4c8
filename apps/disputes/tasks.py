"""Disputes' scheduled work (CELERY_BEAT_SCHEDULE): a thin wrapper that loops over the organisations, enters each
one's scope and calls the idempotent service."""

import logging

from celery import shared_task

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .reminders import dispute_deadline_reminders_send

logger = logging.getLogger(__name__)


@shared_task(name="disputes.remind_deadlines")
def remind_deadlines() -> dict[str, int]:
    """Hourly: remind budget owners of draft statements whose dispute window closes within a day. Each
    statement is reminded once (its marker); one organisation's failure is logged and does not stop the others.
    Returns {slug: statements reminded}."""
    reminded: dict[str, int] = {}
    for organization in Organization.objects.order_by("slug"):
        try:
            with organization_scope(organization):
                reminded[organization.slug] = dispute_deadline_reminders_send(organization=organization)
        except Exception:
            logger.exception("Reminding the dispute deadlines of %s failed", organization.slug)
            reminded[organization.slug] = -1
    return reminded
