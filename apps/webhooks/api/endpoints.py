"""/api/v1/webhook-endpoints/: register, change, rotate, disable and remove webhook endpoints, and read
their deliveries (webhooks:read / webhooks:write)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.tenancy.api.views import OrganizationModelViewSet
from apps.tenancy.roles import TokenScope
from apps.webhooks import selectors, services
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint

from .serializers_endpoints import (
    WebhookDeliverySerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)


def _drf_error(exc: ValidationError) -> DRFValidationError:
    return DRFValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class WebhookEndpointViewSet(OrganizationModelViewSet):
    """Webhook endpoints: the URLs that receive signed deliveries (Standard Webhooks) of the event types
    they subscribe to. POST answers the signing secret once; POST {id}/rotate-secret/ makes a new one (the
    old one signs too for a day); GET {id}/deliveries/ lists the deliveries with their attempts."""

    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    filterset_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_scope = TokenScope.WEBHOOKS_READ
    write_scope = TokenScope.WEBHOOKS_WRITE

    def restrict_queryset(self, queryset):
        return queryset.order_by("pk")

    @extend_schema(
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointSecretSerializer, 400: OpenApiResponse(ErrorSerializer)},
        description="Register an endpoint (url, events, description). The answer carries its secret, once.",
    )
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            endpoint, secret = services.endpoint_create(
                organization=request.organization,
                actor=request.user,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
            )
        except ValidationError as exc:
            raise _drf_error(exc) from exc
        answer = WebhookEndpointSecretSerializer(endpoint, context={**self.get_serializer_context(), "secret": secret})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = serializer.validated_data
        endpoint = serializer.instance
        try:
            if {"url", "events", "description"} & data.keys():
                endpoint = services.endpoint_update(
                    endpoint=endpoint,
                    actor=self.request.user,
                    url=data.get("url"),
                    events=data.get("events"),
                    description=data.get("description"),
                )
            if data.get("is_active") is False:
                endpoint = services.endpoint_disable(endpoint=endpoint, actor=self.request.user)
            elif data.get("is_active") is True:
                endpoint = services.endpoint_enable(endpoint=endpoint, actor=self.request.user)
        except ValidationError as exc:
            raise _drf_error(exc) from exc
        serializer.instance = endpoint

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance, actor=self.request.user)

    @extend_schema(
        request=None,
        responses={200: WebhookEndpointSecretSerializer},
        description="A new signing secret, answered once. Until previous_secret_expires_at the old secret signs "
        "every delivery too (two signatures in webhook-signature), so receivers switch without a gap.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint, secret = services.endpoint_rotate_secret(endpoint=self.get_object(), actor=request.user)
        answer = WebhookEndpointSecretSerializer(endpoint, context={**self.get_serializer_context(), "secret": secret})
        return Response(answer.data)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries (oldest first, cursor-paginated), each with its attempts, newest first."""
        endpoint = self.get_object()
        queryset = selectors.endpoint_deliveries(organization=request.organization, endpoint=endpoint)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: WebhookDeliverySerializer, 400: OpenApiResponse(ErrorSerializer)},
        description="Send a delivery again now, with a new round of retries (the same webhook-id).",
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)/redeliver", filter_backends=[])
    def redeliver(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = get_object_or_404(
            WebhookDelivery.objects.filter(organization=request.organization, endpoint=endpoint), pk=delivery_id
        )
        try:
            delivery = services.delivery_redeliver(delivery=delivery, actor=request.user)
        except ValidationError as exc:
            raise _drf_error(exc) from exc
        delivery = selectors.endpoint_deliveries(organization=request.organization, endpoint=endpoint).get(
            pk=delivery.pk
        )
        return Response(WebhookDeliverySerializer(delivery).data)
