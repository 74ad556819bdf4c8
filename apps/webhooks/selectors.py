"""Reads of webhook endpoints and their deliveries."""

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

ATTEMPTS_SHOWN = 10


@tenant_scoped
def endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The organisation's endpoints with their delivery counts by status."""
    return (
        WebhookEndpoint.objects.filter(organization=organization)
        .select_related("created_by")
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
            succeeded=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.SUCCEEDED)),
            failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        )
        .order_by("url", "pk")
    )


@tenant_scoped
def endpoint_deliveries(*, organization: Organization, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their event and their attempts (newest first)."""
    return (
        WebhookDelivery.objects.filter(organization=organization, endpoint=endpoint)
        .select_related("event")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                queryset=WebhookAttempt.objects.filter(organization=organization).order_by("-attempted_at", "-pk"),
            )
        )
        .order_by("-created_at", "-pk")
    )
