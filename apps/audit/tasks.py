"""The audit trail's scheduled work (CELERY_BEAT_SCHEDULE): thin wrappers that loop over the organisations,
enter each one's scope and call the service; one organisation's failure is logged and does not stop the others."""

import logging

from celery import shared_task

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .services import AnchorRefused, audit_anchor_publish, audit_chain_check, audit_chain_verify

logger = logging.getLogger(__name__)


@shared_task(name="audit.verify_chain")
def verify_audit_chain_task(organization_id: int) -> dict:
    """Verify one organisation's chain against its last published head (no record, no alert)."""
    organization = Organization.objects.get(pk=organization_id)
    with organization_scope(organization):
        result = audit_chain_verify(organization=organization)
    return {
        "organization": result.organization_slug,
        "ok": result.ok,
        "events_checked": result.events_checked,
        "anchored_seq": result.anchored_seq,
        "problem": result.problem,
    }


@shared_task(name="audit.publish_anchors")
def publish_anchors() -> dict[str, object]:
    """Publish every organisation's chain head to the anchor sinks (hourly). Idempotent: a head the sink holds
    already is not published again. A chain that does not continue its last published head is not published:
    it is checked and recorded as broken instead (its org admins are told)."""
    summary: dict[str, object] = {}
    for organization in Organization.objects.order_by("pk"):
        try:
            with organization_scope(organization):
                try:
                    anchor = audit_anchor_publish(organization=organization)
                except AnchorRefused as exc:
                    logger.error("Audit anchor of %s refused: %s", organization.slug, exc)
                    audit_chain_check(organization=organization)
                    summary[organization.slug] = "refused"
                    continue
            summary[organization.slug] = anchor.seq if anchor else None
        except Exception:
            logger.exception("Publishing the audit anchor of %s failed", organization.slug)
            summary[organization.slug] = "error"
    return summary


@shared_task(name="audit.verify_chains")
def verify_chains() -> dict[str, bool | str]:
    """Nightly: verify every organisation's chain against its last published head, keep the finding
    (AuditChainCheck) and e-mail the organisation's admins when it fails."""
    summary: dict[str, bool | str] = {}
    for organization in Organization.objects.order_by("pk"):
        try:
            with organization_scope(organization):
                summary[organization.slug] = audit_chain_check(organization=organization).ok
        except Exception:
            logger.exception("Verifying the audit chain of %s failed", organization.slug)
            summary[organization.slug] = "error"
    return summary
