"""``emit``: the one way a change becomes an event (and, through ``deliveries.fan_out``, webhooks)."""

from django.db import transaction
from django.db.models import F

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import Event, EventCounter, EventType


def _next_seq(organization: Organization) -> int:
    EventCounter.objects.get_or_create(organization=organization)
    # The UPDATE locks the counter row to the end of the caller's transaction: numbers commit in order.
    EventCounter.objects.filter(organization=organization).update(last=F("last") + 1)
    return EventCounter.objects.filter(organization=organization).values_list("last", flat=True).get()


@tenant_scoped
def emit(
    *,
    organization: Organization,
    type: str,
    object_type: str,
    object_id,
    api_path: str = "",
    data: dict | None = None,
    actor_label: str = "",
) -> Event:
    """Record that something changed, in the caller's transaction; deliveries to the endpoints subscribed
    to ``type`` are created with it and sent after the commit."""
    if type not in EventType.values:
        raise ValueError(f"Unknown event type {type!r}.")
    with transaction.atomic():
        event = Event.objects.create(
            organization=organization,
            seq=_next_seq(organization),
            type=type,
            object_type=object_type,
            object_id=str(object_id),
            api_path=api_path,
            data=data or {},
            actor_label=actor_label[:200],
        )
        from .deliveries import fan_out  # same app; deliveries imports this module's models only

        fan_out(event)
    return event
