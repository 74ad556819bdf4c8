import django_filters

from apps.core.api.filtering import UpdatedSinceFilter
from apps.core.api.months import MonthFilter

from .models import JournalEntry


class JournalEntryFilter(django_filters.FilterSet):
    period = MonthFilter(field_name="period", label="Month (YYYY-MM)")
    kind = django_filters.ChoiceFilter(field_name="kind", choices=JournalEntry.Kind.choices, label="charge or reversal")
    posting_status = django_filters.ChoiceFilter(
        field_name="posting_status", choices=JournalEntry.Posting.choices, label="pending, posted or failed"
    )
    owner = django_filters.CharFilter(field_name="owner_code", lookup_expr="iexact", label="Cost-centre code")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = JournalEntry
        fields = ["period", "kind", "posting_status", "owner", "updated_since"]
