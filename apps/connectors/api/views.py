"""/api/v1/connectors/: the organisation's provider connections, their pulls, and "pull now" (scope
``invoices:write``: a pull brings in invoices and usage, as an upload does). Connections are added and their
keys entered in the portal only (an org admin with a second factor): a key never travels through the API."""

from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.connectors import selectors, services, tasks
from apps.connectors.models import ConnectorPull, ProviderConnection
from apps.core.api.errors import ErrorSerializer
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import ConnectionSerializer, PullSerializer


class ConnectionViewSet(OrganizationReadOnlyViewSet):
    """Provider connections (OpenAI, Anthropic) with their last pull."""

    queryset = ProviderConnection.objects.none()
    serializer_class = ConnectionSerializer
    filterset_class = None
    read_scope = write_scope = TokenScope.INVOICES_WRITE

    def restrict_queryset(self, queryset):
        return queryset.order_by("pk")

    @extend_schema(responses=PullSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def pulls(self, request, pk=None):
        """The connection's pulls, newest first: window, requests, pages, results, 429s waited, imports."""
        page = self.paginate_queryset(selectors.connection_pulls(connection=self.get_object()))
        return self.get_paginated_response(PullSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: ConnectionSerializer,
            409: OpenApiResponse(response=ErrorSerializer, description="A pull of this connection is running."),
        },
        description="Queue a pull now. Answers 202 with the connection (its last_pull_* say how it went) and a "
        "Location header: its pulls.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def pull(self, request, pk=None):
        connection = self.get_object()
        try:
            services.pull_start_check(connection=connection)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        # A token has no person behind it: the pull is named after the API client ("api:<name>").
        label = str(getattr(request.user, "audit_label", "") or request.user)
        transaction.on_commit(
            lambda: tasks.pull_connection.delay(connection.pk, ConnectorPull.Trigger.MANUAL, None, label)
        )
        connection.refresh_from_db()
        location = request.build_absolute_uri(f"/api/v1/connectors/{connection.pk}/pulls/")
        return Response(
            ConnectionSerializer(connection).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
        )
