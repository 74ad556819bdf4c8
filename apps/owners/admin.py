from django.contrib import admin

from apps.audit.admin_kit import TenantAdmin

from .models import Budget, BudgetOwner, BudgetOwnerUser, BudgetThreshold


@admin.register(BudgetOwner)
class BudgetOwnerAdmin(TenantAdmin):
    list_display = ["code", "name", "organization", "parent", "is_active", "is_central"]
    list_filter = ["organization", "is_active", "is_central"]
    search_fields = ["code", "name", "gl_account"]


@admin.register(Budget)
class BudgetAdmin(TenantAdmin):
    list_display = ["owner", "period", "amount", "currency", "organization"]
    list_filter = ["organization", "currency"]
    list_select_related = ["organization", "owner"]
    search_fields = ["owner__code", "owner__name"]
    date_hierarchy = "period"


@admin.register(BudgetOwnerUser)
class BudgetOwnerUserAdmin(TenantAdmin):
    """The cost-centre owner links, one row each (they are edited on the cost centre, as its owner users)."""

    list_display = ["budgetowner", "user", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization", "budgetowner", "user"]
    search_fields = ["budgetowner__code", "user__username"]


@admin.register(BudgetThreshold)
class BudgetThresholdAdmin(TenantAdmin):
    list_display = ["owner", "pct", "basis", "is_active", "organization"]
    list_filter = ["organization", "basis", "is_active"]
    list_select_related = ["organization", "owner"]
    search_fields = ["owner__code", "owner__name"]
