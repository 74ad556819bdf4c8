"""Disputes: a budget owner questions a statement line (or a whole statement); finance discusses it in a
thread and resolves it.

- *accept* records an adjustment pair for the period, of the accepted amount: a credit (negative) to the
  disputing owner and a charge (positive) to the owner who pays instead (another active owner or a central
  one). The pair nets to zero, so the period still ties to the invoices. Adjustments appear on the draft
  statements of the period straight away while it is in review, otherwise on the next version.
- *reject* keeps the charge and says why.

What is disputed never exceeds what was charged: on a line, the open disputes' amounts plus the accepted
ones' credits are at most the line's amount; on a statement, every open dispute and accepted credit of the
owner in the period is at most the statement's charges (its lines other than the credits themselves). The
services check it with the period, statement and line rows locked, at open and again at accept.

Changes go through ``services`` only (audited, e-mailed); adjustments are never edited or removed. The
``Adjustment`` model belongs to ``apps.statements`` (an input to statements, which sit below disputes);
``services.dispute_accept`` writes the pair through ``apps.statements.services.adjustment_pair_create``.
"""

from django.conf import settings
from django.db import models

from apps.core.money import nano_to_decimal
from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class Dispute(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    statement = TenantForeignKey("statements.Statement", on_delete=models.PROTECT, related_name="disputes")
    line = TenantForeignKey(
        "statements.StatementLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
        help_text="Empty when the whole statement is disputed.",
    )
    billing_period = TenantForeignKey("periods.BillingPeriod", on_delete=models.PROTECT, related_name="+")
    owner = TenantForeignKey(
        "owners.BudgetOwner", on_delete=models.PROTECT, related_name="disputes", help_text="The statement's owner."
    )
    currency = models.CharField(max_length=3)
    amount_nano = models.BigIntegerField(help_text="Amount disputed.")
    reason = models.TextField()
    evidence_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submission_key = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text="The token of the form that opened it: the same form submitted twice opens one dispute.",
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, help_text="Why it was rejected, or a note on the acceptance.")
    adjusted_nano = models.BigIntegerField(null=True, blank=True, help_text="Amount credited when accepted.")
    recharge_owner = TenantForeignKey(
        "owners.BudgetOwner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who pays the accepted amount instead.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change (opened, resolved).")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "opened_by", "submission_key"], name="dispute_one_per_submission"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "accepted", "rejected"]), name="dispute_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(amount_nano__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | (models.Q(resolved_at__isnull=False) & models.Q(resolved_by__isnull=False)),
                name="dispute_resolved_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="accepted")
                | (
                    models.Q(adjusted_nano__gt=0)
                    & models.Q(adjusted_nano__lte=models.F("amount_nano"))
                    & models.Q(recharge_owner__isnull=False)
                ),
                name="dispute_accepted_has_adjustment",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected")
                | (~models.Q(resolution_note="") & models.Q(adjusted_nano__isnull=True)),
                name="dispute_rejected_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "billing_period"], name="dispute_org_status"),
            models.Index(fields=["organization", "updated_at"], name="dispute_org_updated"),
        ]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} ({self.status})"

    @property
    def amount(self):
        return nano_to_decimal(self.amount_nano)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class DisputeComment(TenantModel):
    dispute = TenantForeignKey(Dispute, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_label = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dispute", "created_at", "id"]

    def __str__(self) -> str:
        return f"Comment #{self.pk} on dispute #{self.dispute_id}"
