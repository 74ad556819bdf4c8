"""The events a period's transitions emit (``apps.webhooks``: the feed and the webhooks), written in the
transition's transaction by ``services.period_transition``: an event exists exactly when its change committed.

Starting reconciliation is internal to finance and emits nothing; the four steps a system outside follows
(``period.submitted``, ``period.approved``, ``period.closed``, ``period.reopened``, and back:
``period.sent_back``, with its reason) each emit one event.
"""

from django.urls import reverse

from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.events import emit
from apps.webhooks.models import EventType

from .models import BillingPeriod

TRANSITION_EVENTS = {
    "submit_for_review": EventType.PERIOD_SUBMITTED,
    "approve": EventType.PERIOD_APPROVED,
    "close": EventType.PERIOD_CLOSED,
    "reopen": EventType.PERIOD_REOPENED,
    "send_back": EventType.PERIOD_SENT_BACK,
}


@tenant_scoped(via="billing_period")
def period_event_emit(*, billing_period: BillingPeriod, transition: str, actor_label: str, reason: str = ""):
    """The event of ``transition`` (just applied to ``billing_period``), or None when it has none."""
    event_type = TRANSITION_EVENTS.get(transition)
    if event_type is None:
        return None
    label = billing_period.label
    data = {"period": label, "state": billing_period.state, "version": billing_period.version}
    if transition in ("reopen", "send_back"):
        data["reason"] = reason
    return emit(
        organization=billing_period.organization,
        type=event_type,
        object_type="period",
        object_id=label,
        api_path=reverse("api:period-detail", kwargs={"period": label}),
        data=data,
        actor_label=actor_label,
    )
