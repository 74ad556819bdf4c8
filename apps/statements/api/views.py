from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from apps.core.api.errors import ErrorSerializer
from apps.statements.filters import StatementFilter
from apps.statements.models import Statement
from apps.statements.selectors import statements_conversions
from apps.statements.views import pdf_response
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import StatementDetailSerializer, StatementSerializer


@extend_schema_view(
    list=extend_schema(
        description="Statements per cost centre, period and version, each with its cost centre's ERP references "
        "(`erp`) and its exchange rates (`conversion`). An ERP pulls `?status=final&current=true`: the versions "
        "in force (a final version stays current while the version after it is only a draft in review). "
        "`updated_since` (ISO-8601) answers what changed at or after an instant. Amounts are decimal strings "
        "footed to the currency's minor unit."
    ),
    retrieve=extend_schema(description="One statement with its lines (footed and exact amounts)."),
)
class StatementViewSet(OrganizationReadOnlyViewSet):
    queryset = Statement.objects.none()
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    read_scope = TokenScope.STATEMENTS_READ

    def perform_content_negotiation(self, request, force=False):
        if self.action != "pdf":
            return super().perform_content_negotiation(request, force=force)
        # Whatever Accept or ?format asks for: the file itself on success (an HttpResponse, no renderer
        # involved), the API's JSON error body otherwise, never an error labelled application/pdf.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def get_serializer_class(self):
        return StatementDetailSerializer if self.action == "retrieve" else StatementSerializer

    def restrict_queryset(self, queryset):
        return queryset.select_related("superseded_by", "owner")

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The statement as a PDF."),
            (404, "application/json"): OpenApiResponse(ErrorSerializer, description="No such statement."),
        },
        description="The statement as a PDF document: the figures of its page in the portal (header, sections "
        "with every line, totals, exchange rates).",
    )
    @action(detail=True, methods=["get"], url_path="pdf", renderer_classes=[JSONRenderer])
    def pdf(self, request, pk=None):
        return pdf_response(organization=request.organization, statement=self.get_object())

    def list(self, request, *args, **kwargs):
        """A page's conversions are read at once (three queries), not per row."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        conversions = statements_conversions(organization=request.organization, statements=page)
        serializer = self.get_serializer(
            page, many=True, context={**self.get_serializer_context(), "conversions": conversions}
        )
        return self.get_paginated_response(serializer.data)
