from django.conf import settings
from django.db import models

from apps.tenancy.keys import TenantForeignKey, TenantManyToManyField
from apps.tenancy.models import CURRENCY_VALIDATOR, TenantModel


class BudgetOwner(TenantModel):
    """A cost centre that can be charged: division → department → team, with its ERP references."""

    code = models.CharField(max_length=40, help_text="Cost-centre code, unique in the organisation, e.g. CC-1001.")
    name = models.CharField(max_length=200)
    parent = TenantForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    owner_users = TenantManyToManyField(
        settings.AUTH_USER_MODEL,
        through="BudgetOwnerUser",
        blank=True,
        related_name="owned_cost_centres",
        help_text="Members with the budget-owner role who see this cost centre and everything below it.",
    )
    gl_account = models.CharField("GL account", max_length=40, blank=True)
    department = models.CharField(max_length=80, blank=True)
    company_code = models.CharField("company code / subsidiary", max_length=40, blank=True)
    erp_class = models.CharField("class", max_length=80, blank=True)
    location = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(default=True)
    is_central = models.BooleanField(
        default=False, help_text="A central/platform owner that may receive shared cost and the invoice true-up."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="budgetowner_unique_code_per_org"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="budgetowner_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Budget(TenantModel):
    """What a cost centre may spend in one calendar month. ``period`` is the first day of the month."""

    owner = TenantForeignKey(BudgetOwner, on_delete=models.PROTECT, related_name="budgets")
    period = models.DateField(help_text="The first day of the budgeted month.")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner__code", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "owner", "period"], name="budget_unique_owner_period"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.owner.code} {self.period:%Y-%m}: {self.amount} {self.currency}"


class BudgetOwnerUser(TenantModel):
    """The link behind ``BudgetOwner.owner_users``: an explicit table, so it carries the organisation (its
    manager fills it from the cost centre: ``owner.owner_users.add(user)`` needs nothing more)."""

    budgetowner = TenantForeignKey(BudgetOwner, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    # Django reads and writes a link table with its default manager, also outside any scope (the admin, the
    # cross-organisation guard from the user's side): that one is plain; ``objects`` stays scoped.
    unscoped = models.Manager()

    class Meta:
        db_table = "owners_budgetowner_owner_users"
        default_manager_name = "unscoped"
        verbose_name = "cost centre owner"
        constraints = [
            models.UniqueConstraint(fields=["organization", "budgetowner", "user"], name="budgetowneruser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} owns {self.budgetowner_id}"
