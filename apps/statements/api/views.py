from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.statements.filters import StatementFilter
from apps.statements.models import Statement
from apps.statements.selectors import statements_conversions
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

    def get_serializer_class(self):
        return StatementDetailSerializer if self.action == "retrieve" else StatementSerializer

    def restrict_queryset(self, queryset):
        return queryset.select_related("superseded_by", "owner")

    def list(self, request, *args, **kwargs):
        """A page's conversions are read at once (three queries), not per row."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        conversions = statements_conversions(organization=request.organization, statements=page)
        serializer = self.get_serializer(
            page, many=True, context={**self.get_serializer_context(), "conversions": conversions}
        )
        return self.get_paginated_response(serializer.data)
