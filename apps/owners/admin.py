from django.contrib import admin

from apps.tenancy.admin import TenantAdmin

from .models import BudgetOwner


@admin.register(BudgetOwner)
class BudgetOwnerAdmin(TenantAdmin):
    list_display = ["code", "name", "organization", "parent", "is_active", "is_central"]
    list_filter = ["organization", "is_active", "is_central"]
    search_fields = ["code", "name", "gl_account"]
