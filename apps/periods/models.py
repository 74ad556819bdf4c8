"""Billing periods: one row per organisation and month, carrying the workflow state.

``open`` → ``reconciling`` → ``in_review`` → ``approved`` → ``closed``, and ``closed`` → ``open`` again
by a reopen (which starts statement version n+1). The transitions, their guards and their audit live in
``services``; this module only says which states exist and what each one allows.
"""

from django.conf import settings
from django.db import models

from apps.tenancy.models import TenantModel


class BillingPeriod(TenantModel):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        RECONCILING = "reconciling", "Reconciling"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        CLOSED = "closed", "Closed"

    # Allocation may be (re)run only while nothing has been issued from it.
    ALLOCATABLE_STATES = frozenset({State.OPEN, State.RECONCILING})

    period = models.DateField(help_text="First day of the month.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    version = models.PositiveIntegerField(
        default=1, help_text="Statement version this period is preparing; a reopen adds one."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "period"], name="billingperiod_unique_month"),
            models.CheckConstraint(condition=models.Q(period__day=1), name="billingperiod_period_first_day"),
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "reconciling", "in_review", "approved", "closed"]),
                name="billingperiod_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} ({self.get_state_display()})"

    @property
    def label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_allocatable(self) -> bool:
        return self.state in self.ALLOCATABLE_STATES
