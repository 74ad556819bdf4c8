from rest_framework import mixins

from apps.pricing import services
from apps.pricing.filters import PriceOverrideFilter, PriceRowFilter
from apps.pricing.models import PriceOverride, PriceRow
from apps.tenancy.api.views import OrganizationListCreateViewSet, OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import PriceOverrideSerializer, PriceRowSerializer


class PriceRowViewSet(OrganizationReadOnlyViewSet):
    """Public list prices. They are global reference data, the same for every organisation: a token
    is needed to read them, but what it sees does not depend on its organisation. Filter with
    ``on=YYYY-MM-DD`` for the rows in force on a day."""

    queryset = PriceRow.objects.none()
    serializer_class = PriceRowSerializer
    filterset_class = PriceRowFilter
    read_scope = TokenScope.CATALOG_READ

    def get_queryset(self):
        # Global rows: no organisation filter applies (and none is needed).
        return PriceRow.objects.select_related("provider", "model")


class PriceOverrideViewSet(mixins.UpdateModelMixin, OrganizationListCreateViewSet):
    """The organisation's negotiated prices and discounts. Never deleted: PATCH ``is_active`` to
    false (or set ``effective_to``)."""

    queryset = PriceOverride.objects.none()
    serializer_class = PriceOverrideSerializer
    filterset_class = PriceOverrideFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_scope = TokenScope.CATALOG_READ
    write_scope = TokenScope.CATALOG_WRITE

    def restrict_queryset(self, queryset):
        return queryset.select_related("provider", "model")

    def perform_create(self, serializer):
        serializer.instance = services.price_override_create(
            organization=self.request.organization, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.price_override_update(
            override=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )
