import logging

from celery import shared_task
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .services_budgets import budgets_evaluate, months_to_evaluate

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
