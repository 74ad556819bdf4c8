import django_filters

from .models import Statement

MONTH_FORMATS = ["%Y-%m"]


class StatementFilter(django_filters.FilterSet):
    period = django_filters.DateFilter(field_name="period", input_formats=MONTH_FORMATS, label="Month (YYYY-MM)")
    owner = django_filters.CharFilter(field_name="owner_code", lookup_expr="iexact", label="Cost-centre code")
    status = django_filters.ChoiceFilter(field_name="status", choices=Statement.Status.choices, label="Status")
    version = django_filters.NumberFilter(field_name="version", label="Version")
    current = django_filters.BooleanFilter(
        field_name="superseded_by", lookup_expr="isnull", label="Only versions nothing supersedes"
    )

    class Meta:
        model = Statement
        fields = ["period", "owner", "status", "version", "current"]
