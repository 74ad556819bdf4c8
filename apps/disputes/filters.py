import django_filters

from apps.core.api.filtering import UpdatedSinceFilter
from apps.core.api.months import MonthFilter

from .models import Dispute


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=Dispute.Status.choices, label="Status")
    period = MonthFilter(field_name="statement__period", label="Month (YYYY-MM)")
    owner = django_filters.CharFilter(field_name="owner__code", lookup_expr="iexact", label="Cost-centre code")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Dispute
        fields = ["status", "period", "owner", "updated_since"]
