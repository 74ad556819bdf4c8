from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import JournalEntry, JournalLine, RecoveryAccount


@admin.register(RecoveryAccount)
class RecoveryAccountAdmin(TenantAdmin):
    list_display = ["organization", "company_code", "account", "description", "updated_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["company_code", "account"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyTenantAdmin):
    """Entries are booked when a period closes and acknowledged by the ERP; never edited here."""

    list_display = ["organization", "external_id", "kind", "period", "version", "total_amount", "posting_status"]
    list_filter = ["organization", "kind", "posting_status"]
    list_select_related = ["organization"]
    search_fields = ["external_id", "owner_code", "erp_reference"]
    date_hierarchy = "period"


@admin.register(JournalLine)
class JournalLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["organization", "entry", "position", "account", "debit", "credit", "cost_centre"]
    list_filter = ["organization"]
    list_select_related = ["organization", "entry"]
    search_fields = ["account", "cost_centre"]
