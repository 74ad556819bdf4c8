import django_filters
from django.db.models import Q

from apps.core.api.filtering import IntegerFilter, UpdatedSinceFilter
from apps.core.api.months import MonthFilter

from .models import Statement


class StatementFilter(django_filters.FilterSet):
    period = MonthFilter(field_name="period", label="Month (YYYY-MM)")
    owner = django_filters.CharFilter(field_name="owner_code", lookup_expr="iexact", label="Cost-centre code")
    status = django_filters.ChoiceFilter(field_name="status", choices=Statement.Status.choices, label="Status")
    version = IntegerFilter(field_name="version", label="Version")
    current = django_filters.BooleanFilter(
        method="filter_current",
        label="true: the versions no final later version supersedes (a final version stays current while its "
        "successor is a draft in review); false: the versions a final later version supersedes",
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Statement
        fields = ["period", "owner", "status", "version", "current", "updated_since"]

    def filter_current(self, queryset, name, value):
        """Current = no *final* later version supersedes it. A period reopened for version 2 keeps its final
        version 1 current until version 2 is final too (the ERP keeps what it booked; the draft may change or
        never close), so ``?status=final&current=true`` answers exactly the statements in force. The successor
        is at most one row (``supersedes`` is one-to-one): a left join on it, over the organisation too."""
        superseded = Q(superseded_by__status=Statement.Status.FINAL)
        if value:  # a withdrawn draft (its period sent back) is in force nowhere
            return queryset.exclude(superseded).exclude(status=Statement.Status.WITHDRAWN)
        return queryset.filter(superseded)
