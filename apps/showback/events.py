"""The event a budget alert emits (``apps.webhooks``: the feed and the webhooks): ``budget.threshold_crossed``,
written by ``services.alert_raise`` in the transaction that raises the alert, so once per threshold and
month like the alert itself. Spend spikes are alerts too, but not an event type: they emit nothing."""

from apps.owners.models import BudgetThreshold
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.events import emit
from apps.webhooks.models import EventType

from .models import Alert


@tenant_scoped(via="alert")
def alert_event_emit(*, alert: Alert):
    """``budget.threshold_crossed`` for a budget alert (from the figures its ``detail`` recorded: the spend
    is the forecast for a forecast threshold, the actual spend otherwise); None for any other alert."""
    if alert.kind != Alert.Kind.BUDGET:
        return None
    detail = alert.detail
    spend = detail.get("forecast") if detail.get("basis") == BudgetThreshold.Basis.FORECAST else detail.get("actual")
    return emit(
        organization=alert.organization,
        type=EventType.BUDGET_THRESHOLD_CROSSED,
        object_type="alert",
        object_id=alert.pk,
        api_path="",
        data={
            "owner": detail.get("owner"),
            "period": f"{alert.period:%Y-%m}",
            "pct": detail.get("pct"),
            "basis": detail.get("basis"),
            "spend": spend,
            "budget": detail.get("budget"),
            "currency": detail.get("currency"),
        },
        actor_label="system",
    )
