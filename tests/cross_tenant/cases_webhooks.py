"""Cross-tenant cases for the webhooks app: its events and their counter, the endpoints, their deliveries and
attempts, their pages and API routes."""

from django_scopes import scope

from apps.webhooks.events import emit
from apps.webhooks.models import Event, EventCounter, WebhookAttempt, WebhookDelivery, WebhookEndpoint

from . import api_route, portal_route, tenant_model


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


def make_endpoint(world, organization) -> WebhookEndpoint:
    with scope(organization=organization):
        endpoint, _ = WebhookEndpoint.objects.get_or_create(
            organization=organization,
            url=f"https://hooks.{organization.slug}.example/chargeback",
            defaults={"events": ["period.closed"], "secret": "whsec_" + "A" * 32, "description": "ERP"},
        )
    return endpoint


def make_delivery(world, organization) -> WebhookDelivery:
    endpoint = make_endpoint(world, organization)
    event = make_event(world, organization)
    with scope(organization=organization):
        delivery, _ = WebhookDelivery.objects.get_or_create(organization=organization, endpoint=endpoint, event=event)
    return delivery


def make_attempt(world, organization) -> WebhookAttempt:
    delivery = make_delivery(world, organization)
    with scope(organization=organization):
        attempt, _ = WebhookAttempt.objects.get_or_create(
            organization=organization, delivery=delivery, defaults={"status_code": 500, "latency_ms": 12}
        )
    return attempt


tenant_model("webhooks.webhookendpoint", make_endpoint)
tenant_model("webhooks.webhookdelivery", make_delivery)
tenant_model("webhooks.webhookattempt", make_attempt)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _endpoint(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_endpoint(world, organization).pk}


def _delivery(world, organization) -> dict:
    delivery = make_delivery(world, organization)
    return {"org_slug": organization.slug, "pk": delivery.endpoint_id, "delivery_pk": delivery.pk}


portal_route("webhooks:endpoints", _org)
portal_route("webhooks:endpoint", _endpoint)
portal_route("webhooks:endpoint_rotate", _endpoint, method="post")
portal_route("webhooks:endpoint_disable", _endpoint, method="post")
portal_route("webhooks:endpoint_enable", _endpoint, method="post")
portal_route("webhooks:endpoint_delete", _endpoint, method="post")
portal_route("webhooks:delivery_redeliver", _delivery, method="post")

api_route("api:webhook-endpoint-list", row_id=lambda w, o: make_endpoint(w, o).pk)
api_route("api:webhook-endpoint-detail", lambda w, o: {"pk": make_endpoint(w, o).pk})
api_route("api:webhook-endpoint-rotate-secret", lambda w, o: {"pk": make_endpoint(w, o).pk}, method="post")
api_route("api:webhook-endpoint-deliveries", lambda w, o: {"pk": make_endpoint(w, o).pk})
api_route(
    "api:webhook-endpoint-redeliver",
    lambda w, o: {"pk": make_delivery(w, o).endpoint_id, "delivery_id": make_delivery(w, o).pk},
    method="post",
)

# The event feed lists rows by their webhook-id ("msg_…"), the feed's "id".
api_route("api:event-list", row_id=lambda world, organization: make_event(world, organization).webhook_id)
