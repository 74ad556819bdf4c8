"""The events disputes emit (``apps.webhooks``: the feed and the webhooks), in the transaction of the
service that makes the change (``services``): ``dispute.opened`` when a dispute is opened and
``dispute.resolved`` when it is accepted or rejected (``status`` says which). Comments emit nothing."""

from django.urls import reverse

from apps.core.money import nano_to_decimal, quantize_money
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.events import emit
from apps.webhooks.models import EventType

from .models import Dispute


def _amount(nano: int | None, currency: str) -> str | None:
    return None if nano is None else str(quantize_money(nano_to_decimal(nano), currency))


@tenant_scoped(via="dispute")
def dispute_event_emit(*, dispute: Dispute, type: str, actor_label: str):
    """The event ``type`` (``EventType.DISPUTE_OPENED`` or ``DISPUTE_RESOLVED``) about ``dispute``."""
    data = {
        "period": f"{dispute.billing_period.period:%Y-%m}",
        "statement": dispute.statement_id,
        "owner": dispute.owner.code,
        "status": dispute.status,
        "currency": dispute.currency,
        "amount": _amount(dispute.amount_nano, dispute.currency),
    }
    if type == EventType.DISPUTE_RESOLVED:
        data["adjusted"] = _amount(dispute.adjusted_nano, dispute.currency)
        data["recharge_owner"] = dispute.recharge_owner.code if dispute.recharge_owner_id else None
    return emit(
        organization=dispute.organization,
        type=type,
        object_type="dispute",
        object_id=dispute.pk,
        api_path=reverse("api:dispute-detail", kwargs={"pk": dispute.pk}),
        data=data,
        actor_label=actor_label,
    )
