from datetime import date

from celery import shared_task
from django.contrib.auth import get_user_model

from apps.tenancy.models import Organization

from .services import reconciliation_run_create


@shared_task(name="reconciliation.run_reconciliation")
def run_reconciliation(organization_id: int, period: str, actor_id: int | None = None) -> dict:
    """Reconcile one month (``period`` as YYYY-MM-DD, the first day) for one organisation."""
    organization = Organization.objects.get(pk=organization_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    run = reconciliation_run_create(organization=organization, period=date.fromisoformat(period), actor=actor)
    return {"run": run.pk, "status": run.status}
