from apps.audit.filters import AuditEventFilter
from apps.audit.models import AuditEvent
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import AuditEventSerializer


class AuditEventViewSet(OrganizationReadOnlyViewSet):
    """The organisation's audit trail, oldest first, for SIEM or GRC tools."""

    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    read_scope = TokenScope.AUDIT_READ
