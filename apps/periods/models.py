"""Billing periods: one row per organisation and month, carrying the workflow state.

``open`` → ``reconciling`` → ``in_review`` → ``approved`` → ``closed``, and ``closed`` → ``open`` again
by a reopen (which starts statement version n+1). The transition table is ``workflow.TRANSITIONS``; the
one service that applies it, with its guards and audit, is ``services.period_transition``. This module
says which states exist and keeps the state from changing any other way:

- ``BillingPeriod.save()`` refuses a changed state unless the transition service is saving, and the
  queryset's ``update()`` refuses to touch ``state`` at all;
- the database refuses an unknown state, a period past ``reconciling`` without a preparer's
  timestamp, an approved or closed period without an approval, a closed one without a close, and an
  approver who is the preparer (maker-checker, as a last line behind the service).

Raw SQL can still write anything; nothing in the project does.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_scopes import ScopedManager

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel

PAST_RECONCILING = ["in_review", "approved", "closed"]


class StateChangeError(Exception):
    """A billing period's state was changed outside ``services.period_transition``."""


class BillingPeriodQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if "state" in kwargs:
            raise StateChangeError("A billing period's state changes only through services.period_transition.")
        return super().update(**kwargs)


def _user_fk():
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


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
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Who did what in the current version's cycle (a reopen clears them; the audit trail keeps every one).
    # The labels name API clients too, which have no user of their own.
    prepared_by = _user_fk()
    prepared_by_label = models.CharField(max_length=200, blank=True, help_text="Who submitted it for review.")
    prepared_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(
        blank=True, help_text="Why it went to review although reconciliation was outside tolerance."
    )
    override_by = _user_fk()
    override_by_label = models.CharField(max_length=200, blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    approved_by = _user_fk()
    approved_by_label = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_by = _user_fk()
    closed_by_label = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(
        _manager_class=models.Manager.from_queryset(BillingPeriodQuerySet), organization="organization"
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
            models.CheckConstraint(
                condition=~Q(state__in=PAST_RECONCILING) | Q(prepared_at__isnull=False),
                name="billingperiod_reviewed_was_prepared",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "closed"]) | Q(approved_at__isnull=False),
                name="billingperiod_approved_has_approval",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False), name="billingperiod_closed_has_close"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | Q(prepared_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="billingperiod_maker_checker",
            ),
        ]
        indexes = [models.Index(fields=["organization", "updated_at"], name="billingperiod_org_updated")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_state = None if self._state.adding else self.state
        self._transition_saving = False

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_state = instance.__dict__.get("state")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._stored_state = self.__dict__.get("state")

    def save(self, *args, **kwargs):
        if not self._transition_saving:
            if self._state.adding and self.state != self.State.OPEN:
                raise StateChangeError("A billing period starts open; transitions move it on.")
            if not self._state.adding and self._stored_state is not None and self.state != self._stored_state:
                raise StateChangeError(
                    f"{self.label} is {self._stored_state}: its state changes only through services.period_transition."
                )
        super().save(*args, **kwargs)
        self._stored_state = self.state

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} ({self.get_state_display()})"

    @property
    def label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_allocatable(self) -> bool:
        return self.state in self.ALLOCATABLE_STATES


class LateArrival(TenantModel):
    """Usage rows or invoice lines that an ingest job stored for a period after it left ``open``.

    They are kept (the cube and the invoices have them), never added to issued statements behind
    finance's back: the period shows them as a warning until a reopen takes them into the next version.
    One row per period, kind, job and currency (amounts of two currencies are never added); running a job
    again updates its rows. ``version`` is the period's
    version when the data arrived, so a reopen (version + 1) retires the flag without deleting history.
    """

    class Kind(models.TextChoices):
        USAGE = "usage", "Usage rows"
        INVOICES = "invoices", "Invoice lines"

    billing_period = TenantForeignKey(BillingPeriod, on_delete=models.PROTECT, related_name="late_arrivals")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    job_id = models.PositiveBigIntegerField(help_text="The usage import or invoice import that stored the rows.")
    version = models.PositiveIntegerField()
    state_at_arrival = models.CharField(max_length=12, choices=BillingPeriod.State.choices)
    rows = models.PositiveBigIntegerField(help_text="Usage records or invoice lines stored for the period.")
    amount_nano = models.BigIntegerField(
        default=0,
        help_text="Their estimated (usage) or invoiced amount, in currency; for re-pulled usage buckets that "
        "replaced stored ones, the change.",
    )
    currency = models.CharField(max_length=3, default="USD", help_text="The currency of amount_nano.")
    file_name = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, help_text="What arrived: providers, days or invoices.")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["billing_period", "first_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "billing_period", "kind", "job_id", "currency"], name="latearrival_unique_job"
            ),
            models.CheckConstraint(condition=Q(kind__in=["usage", "invoices"]), name="latearrival_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.rows} late {self.get_kind_display().lower()} for period {self.billing_period_id}"
