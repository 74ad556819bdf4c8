from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import (
    DailyDetailUsage,
    DailyUsage,
    IngestError,
    IngestJob,
    MonthlyDetailUsage,
    MonthlyUsage,
    SourceMapping,
    UsageRecord,
    UsageSourceDay,
)


@admin.register(IngestJob)
class IngestJobAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "id",
        "organization",
        "file_name",
        "format",
        "status",
        "rows_total",
        "accepted",
        "duplicates",
        "rejected",
        "created_at",
    ]
    list_filter = ["organization", "status", "format"]


@admin.register(IngestError)
class IngestErrorAdmin(ReadOnlyTenantAdmin):
    list_display = ["job", "line", "field", "message"]


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyTenantAdmin):
    list_display = ["request_id", "organization", "occurred_at", "provider", "model", "estimated_nano"]
    list_filter = ["organization", "provider"]
    search_fields = ["request_id", "trace_id"]
    show_full_result_count = False


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "organization", "provider", "model", "service_tier", "requests", "estimated_nano"]
    list_filter = ["organization", "provider"]


@admin.register(SourceMapping)
class SourceMappingAdmin(TenantAdmin):
    list_display = ["kind", "external_id", "organization", "tags"]
    list_filter = ["organization", "kind"]


@admin.register(DailyDetailUsage)
class DailyDetailUsageAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "organization", "dimension", "value", "team", "requests", "estimated_nano"]
    list_filter = ["organization", "dimension"]


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(ReadOnlyTenantAdmin):
    list_display = ["month", "organization", "provider", "model", "service_tier", "requests", "estimated_nano"]
    list_filter = ["organization", "provider"]


@admin.register(MonthlyDetailUsage)
class MonthlyDetailUsageAdmin(ReadOnlyTenantAdmin):
    list_display = ["month", "organization", "dimension", "value", "team", "requests", "estimated_nano"]
    list_filter = ["organization", "dimension"]


@admin.register(UsageSourceDay)
class UsageSourceDayAdmin(ReadOnlyTenantAdmin):
    list_display = ["day", "organization", "provider", "model", "source", "currency", "records", "estimated_nano"]
    list_filter = ["organization", "provider", "source"]
