from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.roles import TokenScope

from .serializers import OrganizationSerializer
from .views import OrganizationAPIView


class OrganizationDetailView(OrganizationAPIView):
    """The organisation the token belongs to."""

    read_scope = TokenScope.ORG_READ
    serializer_class = OrganizationSerializer

    @extend_schema(responses=OrganizationSerializer)
    def get(self, request):
        return Response(self.get_serializer(request.organization).data)
