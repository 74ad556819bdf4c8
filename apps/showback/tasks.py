"""Showback's scheduled work (CELERY_BEAT_SCHEDULE): thin wrappers that loop over the organisations, enter
each one's scope and call the idempotent service, so a repeated or overlapping run adds nothing."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .services_budgets import budgets_evaluate, months_to_evaluate
from .services_forecasts import forecast_snapshot_take
from .services_spikes import detect_spikes as spikes_detect

logger = logging.getLogger(__name__)


def _today():
    return timezone.now().date()


@shared_task(name="showback.evaluate_budgets")
def evaluate_budgets() -> dict:
    """Every organisation's budget thresholds, for the month in progress and the last one until it closes (the
    beat schedule runs it hourly). Idempotent: a threshold fires once per month, however often this runs.
    Returns {slug: {"YYYY-MM": {"checked", "fired", "already"}}}; one organisation's failure is logged and
    does not stop the others."""
    today = _today()
    summary: dict[str, dict] = {}
    for organization in Organization.objects.order_by("slug"):
        try:
            with organization_scope(organization):
                summary[organization.slug] = {
                    f"{month:%Y-%m}": _figures(budgets_evaluate(organization=organization, month=month, today=today))
                    for month in months_to_evaluate(organization=organization, today=today)
                }
        except Exception:
            logger.exception("Evaluating the budgets of %s failed", organization.slug)
            summary[organization.slug] = {"error": True}
    return summary


def _figures(result) -> dict:
    return {"checked": result.checked, "fired": len(result.fired), "already": result.already}


@shared_task(name="showback.snapshot_forecasts")
def snapshot_forecasts() -> dict[str, int]:
    """Daily: this month's forecast snapshots, for the organisations and cost centres that have none yet
    (the first run of a month takes them; later runs find them and write nothing)."""
    today = timezone.now().date()
    taken = {}
    for organization in Organization.objects.order_by("pk"):
        with organization_scope(organization):
            made = forecast_snapshot_take(organization=organization, month=today.replace(day=1), as_of=today)
        taken[organization.slug] = len(made)
    return taken


@shared_task(name="showback.detect_spikes")
def detect_spikes() -> dict[str, int]:
    """Hourly: spend spikes of yesterday (now complete) and of today so far, per team and per model."""
    today = timezone.now().date()
    raised = {}
    for organization in Organization.objects.order_by("pk"):
        with organization_scope(organization):
            alerts = [
                *spikes_detect(organization=organization, day=today - timedelta(days=1)),
                *spikes_detect(organization=organization, day=today),
            ]
        raised[organization.slug] = len(alerts)
    return raised
