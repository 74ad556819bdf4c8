import django_filters

from apps.core.api.months import MonthFilter

from .models import InvoiceIngestJob, InvoiceLine, ProviderInvoice


class ProviderInvoiceFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="provider", lookup_expr="iexact", label="Provider code")
    period = MonthFilter(field_name="billing_period", label="Billing period (YYYY-MM)")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ProviderInvoice
        fields = ["provider", "period", "updated_since"]


class InvoiceLineFilter(django_filters.FilterSet):
    is_ai = django_filters.BooleanFilter(field_name="is_ai")
    cost_source = django_filters.ChoiceFilter(field_name="cost_source", choices=InvoiceLine.CostSource.choices)
    model = django_filters.CharFilter(field_name="model", lookup_expr="iexact")

    class Meta:
        model = InvoiceLine
        fields = ["is_ai", "cost_source", "model"]


class InvoiceImportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=InvoiceIngestJob.Status.choices)

    class Meta:
        model = InvoiceIngestJob
        fields = ["status"]
