"""Showback's writes: raising an alert (once per period per thing that fired) and acknowledging one."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.mail import send_mail_on_commit
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .events import alert_event_emit
from .models import Alert


def _alert_notify(*, alert_id: int, recipients: list[str], body: str) -> None:
    """After commit: one e-mail to every recipient queued (a worker sends it, retrying a refusing mail server),
    then ``notified_at`` (a failure to queue leaves it empty)."""
    alert = Alert._base_manager.select_related("organization").get(pk=alert_id)
    if recipients:
        send_mail_on_commit(f"[{alert.organization.name}] {alert.title}", body, recipients)
    Alert._base_manager.filter(organization_id=alert.organization_id, pk=alert.pk).update(notified_at=timezone.now())


@tenant_scoped
def alert_raise(
    *,
    organization: Organization,
    kind: str,
    key: str,
    period: date,
    title: str,
    owner=None,
    detail: dict | None = None,
    link: str = "",
    recipients: list[str] | None = None,
    body: str = "",
) -> tuple[Alert, bool]:
    """The alert of (kind, key, period), made if it does not exist yet: (alert, True) when this call raised
    it, (the existing one, False) otherwise. Raising is recorded in the audit trail and e-mailed to
    ``recipients`` after the commit; an alert that exists is never raised or sent again, whoever races."""
    if kind not in Alert.Kind.values:
        raise ValueError(f"Unknown alert kind {kind!r}.")
    existing = Alert.objects.filter(organization=organization, kind=kind, key=key, period=period).first()
    if existing is not None:
        return existing, False
    addresses = sorted(dict.fromkeys(address for address in (recipients or []) if address))
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                organization=organization,
                kind=kind,
                key=key,
                period=period,
                owner=owner,
                title=title[:300],
                detail=detail or {},
                link=link,
                recipients=addresses,
            )
            audit_record(
                organization=organization,
                actor=None,
                action="alert.raised",
                target=alert,
                after={
                    "kind": kind,
                    "key": key,
                    "period": period.isoformat(),
                    "title": alert.title,
                },
            )
            alert_event_emit(alert=alert)
    except IntegrityError:
        # Another worker raised it between the read and the insert: theirs stands, nothing is sent twice.
        return Alert.objects.get(organization=organization, kind=kind, key=key, period=period), False
    text = body or "\n".join([alert.title, *([f"See: {link}"] if link else [])])
    transaction.on_commit(lambda: _alert_notify(alert_id=alert.pk, recipients=addresses, body=text))
    return alert, True


@tenant_scoped(via="alert")
def alert_acknowledge(*, alert: Alert, actor) -> Alert:
    """Mark an alert seen (it leaves the inbox; it stays on the alerts page). Acknowledging twice is a no-op."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(organization_id=alert.organization_id, pk=alert.pk)
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(organization=locked.organization, actor=actor, action="alert.acknowledged", target=locked)
    return locked
