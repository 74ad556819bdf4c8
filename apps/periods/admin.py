from django.contrib import admin

from apps.tenancy.admin import ReadOnlyTenantAdmin

from .models import BillingPeriod


@admin.register(BillingPeriod)
class BillingPeriodAdmin(ReadOnlyTenantAdmin):
    list_display = ["period", "state", "version", "organization"]
    list_filter = ["state"]
