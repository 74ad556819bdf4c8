from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin

from .models import Adjustment, Statement, StatementLine


# Statements are built by the period workflow and final ones are immutable: read-only here.
@admin.register(Statement)
class StatementAdmin(ReadOnlyTenantAdmin):
    list_display = ["owner_code", "period", "version", "status", "total_amount", "currency", "organization"]
    list_filter = ["status", "period"]
    search_fields = ["owner_code", "owner_name"]


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyTenantAdmin):
    list_display = ["statement", "position", "section", "provider", "model", "cost_source", "amount"]
    list_filter = ["section"]
    list_select_related = ["organization", "statement"]


# Adjustments are written by an accepted dispute (``apps.disputes.services``) and never edited: read-only here.
@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyTenantAdmin):
    list_display = ["dispute_id", "kind", "owner", "amount_nano", "billing_period", "created_at"]
    list_filter = ["kind"]
