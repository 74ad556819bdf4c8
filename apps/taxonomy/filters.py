import django_filters

from .models import TagDimension, TagSet, TagValue


class TagDimensionFilter(django_filters.FilterSet):
    key = django_filters.CharFilter(field_name="key", lookup_expr="iexact", label="Key")
    required = django_filters.BooleanFilter(field_name="required", label="Required")
    active = django_filters.BooleanFilter(field_name="is_active", label="Active")

    class Meta:
        model = TagDimension
        fields = ["key", "required", "active"]


class TagValueFilter(django_filters.FilterSet):
    dimension = django_filters.CharFilter(field_name="dimension__key", lookup_expr="iexact", label="Dimension key")
    value = django_filters.CharFilter(field_name="value", lookup_expr="iexact", label="Value")
    owner = django_filters.CharFilter(field_name="owner__code", lookup_expr="iexact", label="Cost-centre code")
    active = django_filters.BooleanFilter(field_name="is_active", label="Active")

    class Meta:
        model = TagValue
        fields = ["dimension", "value", "owner", "active"]


class TagSetFilter(django_filters.FilterSet):
    hash = django_filters.CharFilter(field_name="hash", lookup_expr="exact", label="Hash (sha256 hex)")

    class Meta:
        model = TagSet
        fields = ["hash"]
