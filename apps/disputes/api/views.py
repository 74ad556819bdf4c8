from apps.disputes.filters import DisputeFilter
from apps.disputes.models import Dispute
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import DisputeSerializer


class DisputeViewSet(OrganizationReadOnlyViewSet):
    """Disputes of statement lines and their outcomes (open, accepted with the amount credited and who pays
    it instead, rejected with the reason). Changes go through the portal."""

    queryset = Dispute.objects.none()
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter
    read_scope = TokenScope.PERIODS_READ

    def restrict_queryset(self, queryset):
        return queryset.select_related("statement", "line", "owner", "opened_by", "recharge_owner")
