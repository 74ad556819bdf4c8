import django_filters

from apps.periods.models import BillingPeriod


class BillingPeriodFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(field_name="state", choices=BillingPeriod.State.choices)
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = BillingPeriod
        fields = ["state", "updated_since"]
