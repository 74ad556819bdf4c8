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


class BudgetThreshold(TenantModel):
    """An alert on a cost centre's monthly budget, as AWS Budgets' notifications work: fire when the month's
    spend (``actual``) or its forecast to month end (``forecast``) reaches ``pct`` percent of the budget.

    It applies to every month the cost centre has a budget, against the figures rolled up its subtree (a
    division's threshold watches the division's budget and spend, its teams' included). Each threshold
    fires at most once per month (``showback.Alert``, unique per threshold and month); its state for a month
    is ALARM once it fired, OK otherwise. Thresholds are deactivated, not deleted, so the alerts they raised
    keep a name."""

    class Basis(models.TextChoices):
        ACTUAL = "actual", "Actual spend"
        FORECAST = "forecast", "Forecast to month end"

    owner = TenantForeignKey(BudgetOwner, on_delete=models.PROTECT, related_name="thresholds")
    pct = models.DecimalField(
        "percent of budget",
        max_digits=7,
        decimal_places=2,
        help_text="Fires when the spend reaches this percentage of the month's budget, e.g. 80.00 or 100.00.",
    )
    basis = models.CharField(max_length=10, choices=Basis.choices, default=Basis.ACTUAL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner__code", "basis", "pct"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "owner", "pct", "basis"], name="budgetthreshold_unique_owner_pct_basis"
            ),
            models.CheckConstraint(condition=models.Q(pct__gt=0), name="budgetthreshold_pct_positive"),
            models.CheckConstraint(
                condition=models.Q(basis__in=["actual", "forecast"]), name="budgetthreshold_basis_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner.code} {self.pct}% of budget ({self.get_basis_display().lower()})"
