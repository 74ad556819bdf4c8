import django_filters

from ..models import AllocationLine


class AllocationLineFilter(django_filters.FilterSet):
    # Declared, not generated from filterset_fields: generation would query without an organisation scope.
    owner = django_filters.CharFilter(field_name="owner_code", lookup_expr="iexact", label="Cost-centre code")

    class Meta:
        model = AllocationLine
        fields = ["owner"]
