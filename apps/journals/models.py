"""Journal entries a general ledger can post: one per statement version, balanced to the minor unit.

A period's close books one ``charge`` entry per final statement: debit the cost centre's expense account
(its GL account, department, class, location and company code from the cost-centre record at the time),
credit the organisation's recovery (clearing) account for that company code (``RecoveryAccount``).
Closing a reopened period again books a full ``reversal`` of every charge of the earlier version, then
the charges of the new one: an entry's lines and amounts are never edited. Only the posting
acknowledgement (``posting_status``, ``erp_reference``) changes after an entry is written.

``external_id`` (``{org}-{YYYY-MM}-{cost centre}-v{n}``, ``…-v{n}-rev`` for the reversal) is stable, so an
ERP import keyed on it is idempotent. Amounts are in the statement's currency (the base currency):
``*_nano`` exact, the Decimal columns footed to the currency's minor unit, debits equal credits in both.
"""

from decimal import Decimal

from django.db import models

from apps.tenancy.keys import TenantForeignKey, TenantOneToOneField
from apps.tenancy.models import TenantModel

AMOUNT_FIELD = {"max_digits": 20, "decimal_places": 3}


class RecoveryAccount(TenantModel):
    """The account credited with the recovered AI spend, per company code (blank: every other one)."""

    company_code = models.CharField(
        "company code / subsidiary", max_length=40, blank=True, help_text="Blank: the default for all others."
    )
    account = models.CharField("recovery (clearing) account", max_length=40)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company_code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "company_code"], name="recoveryaccount_unique_company")
        ]

    def __str__(self) -> str:
        return f"{self.company_code or 'default'}: {self.account}"


class JournalEntry(TenantModel):
    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REVERSAL = "reversal", "Reversal"

    class Posting(models.TextChoices):
        PENDING = "pending", "Pending"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Failed"

    billing_period = TenantForeignKey("periods.BillingPeriod", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the month charged.")
    statement = TenantForeignKey(
        "statements.Statement",
        on_delete=models.PROTECT,
        related_name="journal_entries",
        help_text="The statement version booked (charge) or reversed (reversal).",
    )
    version = models.PositiveIntegerField(help_text="The statement version booked or reversed.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reverses = TenantOneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    external_id = models.CharField(max_length=140, help_text="Stable: {org}-{YYYY-MM}-{cost centre}-v{n}[-rev].")
    document_ref = models.CharField(max_length=16, help_text="Short reference for ledgers that allow 16 characters.")
    header_text = models.CharField(max_length=25)
    posting_date = models.DateField()
    currency = models.CharField(max_length=3)
    company_code = models.CharField(max_length=40, blank=True)
    owner_code = models.CharField(max_length=40, help_text="The cost centre charged.")
    memo = models.CharField(max_length=300)
    total_nano = models.BigIntegerField(help_text="Sum of the debits (= sum of the credits), nano-units.")
    total_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    fx = models.JSONField(null=True, blank=True, help_text="The statement's conversion block, if any.")
    posting_status = models.CharField(max_length=10, choices=Posting.choices, default=Posting.PENDING)
    erp_reference = models.CharField(max_length=100, blank=True, help_text="The ERP's document number.")
    posting_message = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "owner_code", "version", "kind"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="journalentry_unique_external_id"),
            models.UniqueConstraint(
                fields=["organization", "statement", "kind"], name="journalentry_one_kind_per_statement"
            ),
            models.CheckConstraint(condition=models.Q(kind__in=["charge", "reversal"]), name="journalentry_kind"),
            models.CheckConstraint(
                condition=models.Q(posting_status__in=["pending", "posted", "failed"]), name="journalentry_posting"
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="charge") & models.Q(reverses__isnull=True))
                | (models.Q(kind="reversal") & models.Q(reverses__isnull=False)),
                name="journalentry_reversal_names_entry",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "period"], name="journalentry_org_period"),
            models.Index(fields=["organization", "updated_at"], name="journalentry_org_updated"),
        ]

    def __str__(self) -> str:
        return self.external_id


class JournalLine(TenantModel):
    entry = TenantForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    account = models.CharField(max_length=40)
    debit_nano = models.BigIntegerField(default=0)
    credit_nano = models.BigIntegerField(default=0)
    debit = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    credit = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    cost_centre = models.CharField(max_length=40, blank=True)
    department = models.CharField(max_length=80, blank=True)
    erp_class = models.CharField("class", max_length=80, blank=True)
    location = models.CharField(max_length=80, blank=True)
    company_code = models.CharField(max_length=40, blank=True)
    memo = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["entry", "position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "entry", "position"], name="journalline_unique_position"),
            models.CheckConstraint(
                condition=models.Q(debit_nano__gte=0) & models.Q(credit_nano__gte=0), name="journalline_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(debit_nano=0) | models.Q(credit_nano=0), name="journalline_one_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}#{self.position} {self.account}"

    def mirrored(self, *, memo: str) -> "JournalLine":
        """This line with its sides swapped (unsaved, no entry): a reversal's line."""
        return JournalLine(
            organization_id=self.organization_id,
            position=self.position,
            account=self.account,
            debit_nano=self.credit_nano,
            credit_nano=self.debit_nano,
            debit=self.credit,
            credit=self.debit,
            cost_centre=self.cost_centre,
            department=self.department,
            erp_class=self.erp_class,
            location=self.location,
            company_code=self.company_code,
            memo=memo[:300],
        )
