import django_filters
from django.db.models import Q

from .models import PriceOverride, PriceRow, ServiceTier


class PriceRowFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="provider__code", lookup_expr="iexact", label="Provider code")
    model = django_filters.CharFilter(field_name="model__code", lookup_expr="iexact", label="Model code")
    tier = django_filters.ChoiceFilter(field_name="service_tier", choices=ServiceTier.choices, label="Service tier")
    usage_type = django_filters.CharFilter(field_name="usage_type", lookup_expr="iexact", label="Usage type")
    on = django_filters.DateFilter(method="filter_on", label="In force on (YYYY-MM-DD)")

    class Meta:
        model = PriceRow
        fields = ["provider", "model", "tier", "usage_type", "on"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(
            Q(effective_from__lte=value) & (Q(effective_to__isnull=True) | Q(effective_to__gt=value))
        )


class PriceOverrideFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="provider__code", lookup_expr="iexact", label="Provider code")
    model = django_filters.CharFilter(field_name="model__code", lookup_expr="iexact", label="Model code")
    active = django_filters.BooleanFilter(field_name="is_active", label="Active")

    class Meta:
        model = PriceOverride
        fields = ["provider", "model", "active"]
