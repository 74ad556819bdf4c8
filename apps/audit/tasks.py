from celery import shared_task

from apps.tenancy.models import Organization

from .services import audit_chain_verify


@shared_task(name="audit.verify_chain")
def verify_audit_chain_task(organization_id: int) -> dict:
    """Verify one organisation's chain; the beat schedule can run it nightly."""
    result = audit_chain_verify(organization=Organization.objects.get(pk=organization_id))
    return {
        "organization": result.organization_slug,
        "ok": result.ok,
        "events_checked": result.events_checked,
        "problem": result.problem,
    }
