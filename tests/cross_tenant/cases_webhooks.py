"""Cross-tenant cases for the webhooks app: its events and their counter."""

from django_scopes import scope

from apps.webhooks.events import emit
from apps.webhooks.models import Event, EventCounter

from . import api_route, tenant_model


def make_event(world, organization) -> Event:
    with scope(organization=organization):
        existing = Event.objects.filter(organization=organization, type="period.closed").first()
        if existing is not None:
            return existing
    return emit(
        organization=organization,
        type="period.closed",
        object_type="period",
        object_id="2026-10",
        api_path="/api/v1/periods/2026-10/",
        data={"period": "2026-10", "state": "closed"},
        actor_label=f"{organization.slug}-finance",
    )


def make_event_counter(world, organization) -> EventCounter:
    make_event(world, organization)
    with scope(organization=organization):
        return EventCounter.objects.get(organization=organization)


tenant_model("webhooks.event", make_event)
tenant_model("webhooks.eventcounter", make_event_counter)

# The event feed lists rows by their webhook-id ("msg_…"), the feed's "id".
api_route("api:event-list", row_id=lambda world, organization: make_event(world, organization).webhook_id)
