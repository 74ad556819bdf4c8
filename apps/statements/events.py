"""The events statements emit (``apps.webhooks``: the feed and the webhooks), in the transaction of the
service that makes the change (``services``): ``statement.issued`` for each draft issued (when its period
enters review, or when an accepted dispute gives an owner who had none a draft), ``statement.finalized`` for
each statement the period's close makes final. A rebuilt draft emits nothing: it is still the same draft,
and it is final (and then emitted) only at the close."""

from django.urls import reverse

from apps.audit.services import actor_label_for
from apps.periods.models import BillingPeriod
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.events import emit
from apps.webhooks.models import EventType

from .models import Statement


def _data(statement: Statement, status: str) -> dict:
    return {
        "period": statement.period_label,
        "owner": statement.owner_code,
        "version": statement.version,
        "status": status,
        "reference": statement.reference,
        "supersedes": statement.supersedes_id,
        "currency": statement.currency,
        "total": str(statement.money(statement.total_amount)),
    }


@tenant_scoped(via="billing_period")
def statements_event_emit(*, billing_period: BillingPeriod, statements, type: str, actor=None) -> list:
    """One event per statement of ``billing_period`` in ``statements`` (in that order), of ``type``:
    ``EventType.STATEMENT_ISSUED`` or ``STATEMENT_FINALIZED`` (the statement is final when that one is
    emitted, whatever the row in hand still says)."""
    organization, label = billing_period.organization, actor_label_for(actor)
    events = []
    for statement in statements:
        status = Statement.Status.FINAL if type == EventType.STATEMENT_FINALIZED else statement.status
        event = emit(
            organization=organization,
            type=type,
            object_type="statement",
            object_id=statement.pk,
            api_path=reverse("api:statement-detail", kwargs={"pk": statement.pk}),
            data=_data(statement, str(status)),
            actor_label=label,
        )
        events.append(event)
    return events
