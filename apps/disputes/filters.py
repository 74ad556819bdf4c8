import django_filters

from .models import Dispute

MONTH_FORMATS = ["%Y-%m"]


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=Dispute.Status.choices, label="Status")
    period = django_filters.DateFilter(
        field_name="statement__period", input_formats=MONTH_FORMATS, label="Month (YYYY-MM)"
    )
    owner = django_filters.CharFilter(field_name="owner__code", lookup_expr="iexact", label="Cost-centre code")

    class Meta:
        model = Dispute
        fields = ["status", "period", "owner"]
