import django_filters

from .models import IngestJob


class IngestJobFilter(django_filters.FilterSet):
    # Declared, not generated from filterset_fields: generation would query without an organisation scope.
    status = django_filters.ChoiceFilter(choices=IngestJob.Status.choices)
    created_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = IngestJob
        fields = ["status", "created_since"]
