import django_filters

from apps.core.api.filtering import UpdatedSinceFilter
from apps.periods.models import BillingPeriod


class BillingPeriodFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(field_name="state", choices=BillingPeriod.State.choices)
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = BillingPeriod
        fields = ["state", "updated_since"]
