from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.statements.filters import StatementFilter
from apps.statements.models import Statement
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import StatementDetailSerializer, StatementSerializer


@extend_schema_view(
    list=extend_schema(
        description="Statements per cost centre, period and version. An ERP pulls `?status=final`; "
        "`current=true` leaves out versions a later one supersedes. Amounts are decimal strings footed to "
        "the currency's minor unit."
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
        return queryset.select_related("superseded_by")
