"""What showback keeps: the alerts it raised (a budget threshold crossed, a day's spend far above its band).

An alert fires once per period per thing that fired (a threshold in a month, a team's spike on a day): the
(organization, kind, key, period) unique constraint makes re-evaluation, retries and two workers racing
write one row. Its state is ALARM when the row exists for the period and OK when it does not; the row is
the event that notifications (e-mail now, webhooks when they exist) are made from.
"""

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
