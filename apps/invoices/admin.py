from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import (
    InvoiceIngestError,
    InvoiceIngestJob,
    InvoiceIngestJobInvoice,
    InvoiceLine,
    InvoiceLineRestatement,
    InvoiceSettings,
    ProviderInvoice,
)


@admin.register(InvoiceSettings)
class InvoiceSettingsAdmin(TenantAdmin):
    list_display = ["organization", "focus_cost_view", "updated_at"]


# Bills change only through ingestion (deduplicated, totals recomputed, audited): read-only here.
@admin.register(ProviderInvoice)
class ProviderInvoiceAdmin(ReadOnlyTenantAdmin):
    list_display = ["invoice_number", "provider", "billing_period", "total_nano", "currency", "organization"]
    list_filter = ["provider", "billing_period"]
    search_fields = ["invoice_number"]


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["invoice", "provider", "model", "cost_source", "charge_category", "amount_nano", "currency"]
    list_filter = ["provider", "cost_source", "charge_category", "is_ai"]
    list_select_related = ["organization", "invoice"]


@admin.register(InvoiceLineRestatement)
class InvoiceLineRestatementAdmin(ReadOnlyTenantAdmin):
    """Lines a later pull of the same cost-report bucket superseded (kept as they were)."""

    list_display = ["invoice", "model", "cost_source", "amount_nano", "new_amount_nano", "currency", "superseded_at"]
    list_filter = ["provider", "cost_source"]
    list_select_related = ["organization", "invoice"]


@admin.register(InvoiceIngestJob)
class InvoiceIngestJobAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "pk",
        "file_name",
        "format",
        "status",
        "accepted",
        "duplicates",
        "restated",
        "rejected",
        "created_at",
    ]
    list_filter = ["status", "format"]


@admin.register(InvoiceIngestError)
class InvoiceIngestErrorAdmin(ReadOnlyTenantAdmin):
    list_display = ["job", "line", "field", "message"]


@admin.register(InvoiceIngestJobInvoice)
class InvoiceIngestJobInvoiceAdmin(ReadOnlyTenantAdmin):
    """Which invoices each import touched, one row each (shown on the import as its invoices)."""

    list_display = ["invoiceingestjob", "providerinvoice", "organization"]
    list_select_related = ["organization", "invoiceingestjob", "providerinvoice"]
    search_fields = ["providerinvoice__invoice_number"]
