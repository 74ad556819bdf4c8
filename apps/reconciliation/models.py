"""Reconciliation: usage estimates (the DailyUsage cube) tied to provider invoices, per period.

A ``ReconciliationRun`` is a frozen result: what the cube and the invoices said when it ran, with the
tolerance then in force. Runs are never edited; running again after new data adds a run, and the
latest run of a period is the current answer. Amounts are integers of nano-units like everywhere else.
"""

from django.conf import settings
from django.db import models

from apps.core.money import nano_to_decimal
from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class ReconciliationRun(TenantModel):
    class Status(models.TextChoices):
        WITHIN = "within", "Within tolerance"
        OUTSIDE = "outside", "Outside tolerance"

    period = models.DateField(help_text="First day of the reconciled month.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3)
    tolerance_pct = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="The organisation's variance tolerance when the run was made."
    )
    estimated_nano = models.BigIntegerField(default=0, help_text="Price-book estimate of the period's AI usage.")
    invoiced_nano = models.BigIntegerField(default=0, help_text="AI charges on the period's invoices.")
    status = models.CharField(max_length=10, choices=Status.choices)
    inputs = models.JSONField(default=dict, help_text="What the run read: cube cells, requests, invoice lines.")
    untagged = models.JSONField(
        default=dict, help_text='Per dimension: {"requests": n, "cost_nano": n} of usage lacking that tag.'
    )
    total_requests = models.BigIntegerField(default=0)
    platform_overhead_pct = models.DecimalField(max_digits=7, decimal_places=2)
    central_nano = models.BigIntegerField(default=0, help_text="Estimated cost of teams owned by central owners.")
    unallocated_nano = models.BigIntegerField(
        default=0, help_text="Estimated cost whose team tag is missing or has no cost centre."
    )
    other_cloud_nano = models.BigIntegerField(default=0, help_text="Non-AI charges on the same invoices.")
    conversion = TenantForeignKey(
        "fx.Conversion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The exchange rates that brought amounts of other currencies into the run's currency; "
        "empty when every amount was already in it.",
    )
    overlap_nano = models.BigIntegerField(
        default=0,
        help_text="Estimated cost on days where request-level usage (gateway logs) and provider usage exports "
        "both cover the same provider and model: at most this much may be counted twice.",
    )
    legacy_unconverted = models.BooleanField(
        default=False,
        help_text="Made before amounts were converted: its figures add USD estimates and invoices of any "
        "currency as if they were the run's currency. Reconcile again.",
    )

    class Meta:
        ordering = ["-period", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period__day=1), name="reconciliationrun_period_first_day"),
            models.CheckConstraint(
                condition=models.Q(status__in=["within", "outside"]), name="reconciliationrun_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["organization", "period", "created_at"], name="reconrun_org_period")]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} {self.period:%Y-%m} ({self.status})"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def variance_nano(self) -> int:
        return self.invoiced_nano - self.estimated_nano

    @property
    def estimated(self):
        return nano_to_decimal(self.estimated_nano)

    @property
    def invoiced(self):
        return nano_to_decimal(self.invoiced_nano)


class ReconciliationLine(TenantModel):
    class Level(models.TextChoices):
        PROVIDER = "provider", "Provider"
        MODEL = "model", "Model"
        COST_SOURCE = "cost_source", "Cost source"
        DAY = "day", "Day"

    run = TenantForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="lines")
    level = models.CharField(max_length=12, choices=Level.choices)
    provider = models.CharField(max_length=40)
    key = models.CharField(
        max_length=120, blank=True, help_text="Model, cost source or day (YYYY-MM-DD); empty for a provider line."
    )
    estimated_nano = models.BigIntegerField(default=0)
    invoiced_nano = models.BigIntegerField(
        null=True, blank=True, help_text="Empty when the invoice does not have this grain (e.g. monthly lines by day)."
    )
    variance_nano = models.BigIntegerField(null=True, blank=True, help_text="Invoiced minus estimated.")
    variance_pct = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Variance / invoiced × 100; empty at 0."
    )
    within_tolerance = models.BooleanField(null=True, help_text="Empty when there is nothing to compare with.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["run", "level", "provider", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "run", "level", "provider", "key"], name="reconciliationline_unique_key"
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=["provider", "model", "cost_source", "day"]),
                name="reconciliationline_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.provider} {self.key}".strip()
