import django_filters

from apps.core.api.months import MonthFilter

from .models import Budget, BudgetOwner


class BudgetOwnerFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact", label="Code")
    active = django_filters.BooleanFilter(field_name="is_active", label="Active")
    central = django_filters.BooleanFilter(field_name="is_central", label="Central")
    parent = django_filters.CharFilter(field_name="parent__code", lookup_expr="iexact", label="Parent code")

    class Meta:
        model = BudgetOwner
        fields = ["code", "active", "central", "parent"]


class BudgetFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__code", lookup_expr="iexact", label="Cost-centre code")
    period = MonthFilter(field_name="period", label="Month (YYYY-MM)")
    period_from = MonthFilter(field_name="period", lookup_expr="gte", label="From month (YYYY-MM)")
    period_to = MonthFilter(field_name="period", lookup_expr="lte", label="To month (YYYY-MM)")

    class Meta:
        model = Budget
        fields = ["owner", "period", "period_from", "period_to"]
