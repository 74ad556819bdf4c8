"""What showback keeps: the alerts it raised (a budget threshold crossed, a day's spend far above its band).

An alert fires once per period per thing that fired (a threshold in a month, a team's spike on a day): the
(organization, kind, key, period) unique constraint makes re-evaluation, retries and two workers racing
write one row. Its state is ALARM when the row exists for the period and OK when it does not; the row is
the event that notifications (e-mail now, webhooks when they exist) are made from.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class Alert(TenantModel):
    class Kind(models.TextChoices):
        BUDGET = "budget", "Budget threshold"
        SPIKE = "spike", "Spend spike"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text='What fired, e.g. "threshold:12" or "team:search".')
    period = models.DateField(help_text="The month's first day (budgets) or the day (spikes).")
    owner = TenantForeignKey(
        "owners.BudgetOwner", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A page of the portal that shows why.")
    fired_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="The addresses it was sent to.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "key", "period"], name="alert_once_per_period")
        ]
        indexes = [models.Index(fields=["organization", "acknowledged_at", "fired_at"], name="alert_open_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def state(self) -> str:
        return "ALARM"


class ImmutableSnapshotError(Exception):
    pass


class ForecastSnapshot(TenantModel):
    """A cost centre's (or, with no owner, the organisation's) forecast of a month's spend, taken from the
    months strictly before it and kept as it was: accuracy after the close is only honest against a forecast
    that could not see the month. The amount forecasts the owner's charge: the usage forecast times the owner's
    charge ratio (``basis`` "charged"), or the usage forecast itself before any period is closed ("usage").
    One per owner per month; never updated (``save`` refuses a change, the admin
    is read-only, no service edits one). Amounts are nano-units of ``currency`` (the base currency when
    taken), converted once from the statistics library's floats (``apps.showback.forecast``)."""

    owner = TenantForeignKey(
        "owners.BudgetOwner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forecast_snapshots",
        help_text="Empty: the organisation as a whole.",
    )
    period = models.DateField(help_text="The forecast month's first day.")
    amount_nano = models.BigIntegerField()
    lower_nano = models.BigIntegerField(help_text="Lower edge of the 80% prediction interval.")
    upper_nano = models.BigIntegerField(help_text="Upper edge of the 80% prediction interval.")
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, help_text="The method that produced it (a fallback names itself).")
    history_months = models.PositiveIntegerField(help_text="Months of history the forecast was made from.")
    history_through = models.DateField(help_text="The last full month used (its first day).")
    basis = models.CharField(
        max_length=10,
        choices=[("charged", "Charge"), ("usage", "Usage")],
        default="usage",
        help_text="charged: the usage forecast times the owner's charge ratio; usage: no closed period to "
        "measure a ratio on yet.",
    )
    charge_ratio = models.DecimalField(
        max_digits=20,
        decimal_places=9,
        default=Decimal(1),
        help_text="Final statements' totals ÷ usage over the latest closed periods before the month (1: usage).",
    )
    ratio_periods = models.PositiveSmallIntegerField(default=0, help_text="Closed periods the ratio was measured on.")
    usage_nano = models.BigIntegerField(
        null=True, blank=True, help_text="The usage forecast (the cube's estimate) before the ratio."
    )
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "owner_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "owner", "period"], name="forecast_once_per_owner_month"),
            models.UniqueConstraint(
                fields=["organization", "period"],
                condition=models.Q(owner__isnull=True),
                name="forecast_once_per_org_month",
            ),
            models.CheckConstraint(
                condition=models.Q(lower_nano__gte=0)
                & models.Q(lower_nano__lte=models.F("amount_nano"))
                & models.Q(amount_nano__lte=models.F("upper_nano")),
                name="forecast_interval_holds_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(history_through__lt=models.F("period")), name="forecast_history_before_month"
            ),
        ]

    def __str__(self) -> str:
        return f"Forecast {self.period:%Y-%m} {self.owner_id or 'organisation'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableSnapshotError("A forecast snapshot is kept as it was taken and cannot be changed.")
        super().save(*args, **kwargs)
