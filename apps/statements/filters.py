import django_filters

from apps.core.api.filtering import IntegerFilter
from apps.core.api.months import MonthFilter

from .models import Statement


class StatementFilter(django_filters.FilterSet):
    period = MonthFilter(field_name="period", label="Month (YYYY-MM)")
    owner = django_filters.CharFilter(field_name="owner_code", lookup_expr="iexact", label="Cost-centre code")
    status = django_filters.ChoiceFilter(field_name="status", choices=Statement.Status.choices, label="Status")
    version = IntegerFilter(field_name="version", label="Version")
    current = django_filters.BooleanFilter(
        field_name="superseded_by", lookup_expr="isnull", label="Only versions nothing supersedes"
    )

    class Meta:
        model = Statement
        fields = ["period", "owner", "status", "version", "current"]
