"""Statements: what one budget owner is charged for one billing period, in one version.

A statement is built from the period's issued allocation run (and the accepted dispute adjustments of the
period) when the period enters review. It is a *draft* while the period is in review, and becomes *final*
when the period closes. A final statement and its lines never change again:

- the model refuses ``save``/``delete`` of a final statement, and of a line of a final statement;
- database triggers (migration 0002) refuse UPDATE and DELETE of a final statement row, and INSERT, UPDATE
  and DELETE of a line whose statement is final, from the ORM, raw SQL or another program. The close itself
  is the UPDATE of a row whose old status is ``draft``, so it passes.

A period sent back from review (``send_back``) *withdraws* its drafts: they stay, marked withdrawn with the
reason, when and by whom, and never change again (nor count in any total); the next submission issues new
drafts of the same version.

Reopening a closed period and closing it again produces version n+1, which ``supersedes`` version n: a full
restatement (the journal reverses version n and books n+1), never an edit.

Amounts: ``*_nano`` are the exact integers of nano-units; the Decimal ``amount`` fields are footed to the
currency's minor unit per statement (``apps.core.money.footed_minor_units``), so the lines add up to their
section totals and the sections to the statement total exactly, on the page, in the CSV and over the API.
"""

from decimal import Decimal

from django.db import models

from apps.core.money import quantize_money
from apps.tenancy.keys import TenantForeignKey, TenantOneToOneField
from apps.tenancy.models import TenantModel


class FinalStatementError(Exception):
    """A final statement (or a line of one) was asked to change."""


class Section(models.TextChoices):
    DIRECT = "direct", "Direct cost"
    SHARED = "shared", "Shared cost"
    TRUE_UP = "true_up", "Invoice true-up"
    ADJUSTMENT = "adjustment", "Adjustments"


SECTION_ORDER = [Section.DIRECT, Section.SHARED, Section.TRUE_UP, Section.ADJUSTMENT]

DIRECT_METHODS = frozenset({"direct", "tag_map"})
SHARED_METHODS = frozenset({"even", "fixed", "proportional", "usage"})
TRUE_UP = "true_up"


def section_for(*, method: str, cost_source: str) -> str:
    """Which part of a statement an allocation line belongs to."""
    if method == TRUE_UP or cost_source == TRUE_UP:
        return Section.TRUE_UP
    if method in DIRECT_METHODS:
        return Section.DIRECT
    if method in SHARED_METHODS:
        return Section.SHARED
    raise ValueError(f"An allocation line with method “{method}” has no statement section.")


AMOUNT_FIELD = {"max_digits": 20, "decimal_places": 3}


class Statement(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (in review)"
        FINAL = "final", "Final"
        WITHDRAWN = "withdrawn", "Withdrawn (sent back)"

    billing_period = TenantForeignKey("periods.BillingPeriod", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the month charged.")
    owner = TenantForeignKey("owners.BudgetOwner", on_delete=models.PROTECT, related_name="statements")
    owner_code = models.CharField(max_length=40, help_text="The cost-centre code when the statement was built.")
    owner_name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(help_text="The period's statement version: 1, then +1 per reopen.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    supersedes = TenantOneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The owner's final statement of an earlier version that this one replaces.",
    )
    allocation_run = TenantForeignKey("allocation.AllocationRun", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    direct_nano = models.BigIntegerField(default=0)
    shared_nano = models.BigIntegerField(default=0)
    true_up_nano = models.BigIntegerField(default=0)
    adjustment_nano = models.BigIntegerField(default=0)
    total_nano = models.BigIntegerField(default=0)
    direct_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    shared_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    true_up_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    adjustment_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    total_amount = models.DecimalField(default=Decimal(0), **AMOUNT_FIELD)
    line_count = models.PositiveIntegerField(default=0)
    issued_at = models.DateTimeField()
    issued_by_label = models.CharField(max_length=200, blank=True)
    rebuilt_at = models.DateTimeField(
        null=True, blank=True, help_text="When an accepted dispute last rebuilt this draft."
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When the period was sent back.")
    withdrawn_by_label = models.CharField(max_length=200, blank=True)
    withdrawn_reason = models.TextField(blank=True, help_text="Why the period was sent back from review.")
    deadline_reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When its owners were reminded that the dispute window closes."
    )
    updated_at = models.DateTimeField(
        auto_now=True, help_text="Last change (issued, rebuilt, finalised): what ?updated_since= filters on."
    )

    class Meta:
        ordering = ["-period", "owner_code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "billing_period", "owner", "version"],
                condition=~models.Q(status="withdrawn"),
                name="statement_unique_owner_version",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "final", "withdrawn"]), name="statement_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="withdrawn") | models.Q(withdrawn_at__isnull=False),
                name="statement_withdrawn_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="final") | models.Q(finalised_at__isnull=False),
                name="statement_final_has_date",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="statement_version_positive"),
            models.CheckConstraint(
                condition=models.Q(
                    total_nano=models.F("direct_nano")
                    + models.F("shared_nano")
                    + models.F("true_up_nano")
                    + models.F("adjustment_nano")
                ),
                name="statement_total_is_sections",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "period", "owner"], name="statement_org_period_owner"),
            models.Index(fields=["organization", "updated_at"], name="statement_org_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_code} {self.period:%Y-%m} v{self.version} ({self.status})"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    @property
    def is_withdrawn(self) -> bool:
        return self.status == self.Status.WITHDRAWN

    @property
    def reference(self) -> str:
        """What an ERP calls it: ``{period}-{cost centre}-v{n}``."""
        return f"{self.period_label}-{self.owner_code}-v{self.version}"

    def section_amount(self, section: str) -> Decimal:
        return getattr(self, f"{section}_amount")

    def section_nano(self, section: str) -> int:
        return getattr(self, f"{section}_nano")

    def money(self, value: Decimal) -> Decimal:
        return quantize_money(value, self.currency)

    def _stored_status(self) -> str | None:
        if self._state.adding or self.pk is None:
            return None
        return type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        stored = self._stored_status()
        if stored == self.Status.FINAL:
            raise FinalStatementError(f"Statement {self.reference} is final and cannot be changed.")
        if stored == self.Status.WITHDRAWN:
            raise FinalStatementError(f"Statement {self.reference} was withdrawn and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.FINAL:
            raise FinalStatementError(f"Statement {self.reference} is final and cannot be deleted.")
        return super().delete(*args, **kwargs)


class Adjustment(TenantModel):
    """One side of an accepted dispute: ``credit`` (negative, to the disputing owner) or ``charge``
    (positive, to the owner who pays instead). An input to the period's statements, like the allocation
    run; the disputes app writes the pair through ``services.adjustment_pair_create`` and nothing edits or
    removes it.

    It lives here, below disputes, so statements never reach up: ``dispute_id`` is the accepted dispute's
    number, a plain integer (the table is still ``disputes_adjustment``, where the model was born; statements
    migrations 0003-0004 moved it without touching its rows)."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit"
        CHARGE = "charge", "Re-charge"

    dispute_id = models.BigIntegerField(db_index=True, help_text="The accepted dispute this side resolves.")
    billing_period = TenantForeignKey("periods.BillingPeriod", on_delete=models.PROTECT, related_name="+")
    owner = TenantForeignKey("owners.BudgetOwner", on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_nano = models.BigIntegerField()
    description = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "disputes_adjustment"
        ordering = ["billing_period", "dispute_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "dispute_id", "kind"], name="adjustment_one_per_side"),
            models.CheckConstraint(condition=models.Q(kind__in=["credit", "charge"]), name="adjustment_kind_valid"),
            models.CheckConstraint(
                condition=(models.Q(kind="credit") & models.Q(amount_nano__lt=0))
                | (models.Q(kind="charge") & models.Q(amount_nano__gt=0)),
                name="adjustment_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_nano} for dispute #{self.dispute_id}"


class StatementLine(TenantModel):
    """One charge on a statement: an allocation line of the owner (direct, shared or true-up), or one side
    of an accepted dispute's adjustment. The allocation's dimensions, rule and explanation are copied, so a
    statement reads on its own; ``source_key`` ("alloc:<id>" / "adj:<id>") keeps a rebuilt draft's lines
    (and the disputes that point at them) stable."""

    statement = TenantForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    section = models.CharField(max_length=12, choices=Section.choices)
    source_key = models.CharField(max_length=40)
    allocation_line = TenantForeignKey(
        "allocation.AllocationLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjustment = TenantForeignKey(
        Adjustment, null=True, blank=True, on_delete=models.PROTECT, related_name="statement_lines"
    )
    feature = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=120, blank=True)
    cost_source = models.CharField(max_length=20, blank=True)
    rule_name = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=20, blank=True)
    share = models.DecimalField(max_digits=16, decimal_places=12, default=0)
    explanation = models.TextField()
    match_tags = models.JSONField(default=dict, blank=True)
    amount_nano = models.BigIntegerField()
    amount = models.DecimalField(**AMOUNT_FIELD)

    class Meta:
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "statement", "position"], name="statementline_unique_position"
            ),
            models.UniqueConstraint(
                fields=["organization", "statement", "source_key"], name="statementline_unique_source"
            ),
            models.CheckConstraint(
                condition=models.Q(section__in=["direct", "shared", "true_up", "adjustment"]),
                name="statementline_section_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(section="adjustment") & models.Q(adjustment__isnull=False))
                | (~models.Q(section="adjustment") & models.Q(allocation_line__isnull=False)),
                name="statementline_has_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}#{self.position} {self.section} {self.provider} {self.model}".strip()

    def _statement_is_final(self) -> bool:
        return (
            Statement._base_manager.filter(
                pk=self.statement_id, status__in=[Statement.Status.FINAL, Statement.Status.WITHDRAWN]
            ).exists()
            if self.statement_id
            else False
        )

    def save(self, *args, **kwargs):
        if self._statement_is_final():
            raise FinalStatementError("The lines of a final statement cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._statement_is_final():
            raise FinalStatementError("The lines of a final statement cannot be deleted.")
        return super().delete(*args, **kwargs)
