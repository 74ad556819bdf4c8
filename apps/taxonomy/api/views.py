from rest_framework import mixins

from apps.taxonomy import services
from apps.taxonomy.filters import TagDimensionFilter, TagSetFilter, TagValueFilter
from apps.taxonomy.models import TagDimension, TagSet, TagValue
from apps.tenancy.api.views import OrganizationListCreateViewSet, OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import TagDimensionSerializer, TagSetSerializer, TagValueSerializer


class TagDimensionViewSet(mixins.UpdateModelMixin, OrganizationListCreateViewSet):
    """Tag dimensions. Never deleted: PATCH ``is_active`` to false. The key cannot change."""

    queryset = TagDimension.objects.none()
    serializer_class = TagDimensionSerializer
    filterset_class = TagDimensionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_scope = TokenScope.CATALOG_READ
    write_scope = TokenScope.CATALOG_WRITE

    def perform_create(self, serializer):
        serializer.instance = services.tag_dimension_create(
            organization=self.request.organization, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.tag_dimension_update(
            dimension=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )


class TagValueViewSet(mixins.UpdateModelMixin, OrganizationListCreateViewSet):
    """Values of tag dimensions, with their aliases and cost centre. Never deleted: PATCH
    ``is_active`` to false. Filter with ``?dimension=team``."""

    queryset = TagValue.objects.none()
    serializer_class = TagValueSerializer
    filterset_class = TagValueFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_scope = TokenScope.CATALOG_READ
    write_scope = TokenScope.CATALOG_WRITE

    def restrict_queryset(self, queryset):
        return queryset.select_related("dimension", "owner").prefetch_related("aliases")

    def perform_create(self, serializer):
        serializer.instance = services.tag_value_create(
            organization=self.request.organization, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "dimension"}
        serializer.instance = services.tag_value_update(
            tag_value=serializer.instance, actor=self.request.user, data=data
        )


class TagSetViewSet(OrganizationReadOnlyViewSet):
    """Distinct normalised tag combinations seen in usage (written by ingestion only). Filter with
    ``?hash=``."""

    queryset = TagSet.objects.none()
    serializer_class = TagSetSerializer
    filterset_class = TagSetFilter
    read_scope = TokenScope.CATALOG_READ
