"""Versioned allocation rule sets.

Design: one table, ``RuleSetVersion``, holds both the (single) editable draft of a rule set and its
published versions. A draft is a version row with status ``draft``; publishing flips that row to
``published`` once, and from then on the row is immutable. Immutability is enforced twice:

- in the model (``save``/``delete`` refuse a row that is already published), and
- in the database, by triggers that reuse the append-only trigger function of ``apps.audit.triggers``
  but fire only ``WHEN OLD.status = 'published'`` (see migration 0002). Drafts stay editable and
  deletable; a published row refuses any UPDATE or DELETE, from the ORM, raw SQL or another program.

This keeps a single foreign-key target for allocation runs ("the exact version it used") and avoids
copying documents between a draft table and a published table. The whole rule list lives in
``document`` as canonical JSON with its ``sha256``, so a published version is one immutable row.
"""

from django.conf import settings
from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class PublishedVersionError(Exception):
    """A published rule-set version was asked to change."""


class TrueUpMode(models.TextChoices):
    FULL_COST = "full_cost", "Spread over owners in proportion to their estimated cost"
    USAGE_ONLY = "usage_only", "Book to a central owner"
    NONE = "none", "No true-up"


class RuleSet(TenantModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_primary = models.BooleanField(
        default=False, help_text="The rule set whose latest published version allocates the organisation's periods."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="ruleset_unique_name_per_org"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_primary=True), name="ruleset_one_primary_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RuleSetVersion(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    rule_set = TenantForeignKey(RuleSet, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3 … within the rule set.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    true_up_mode = models.CharField(max_length=12, choices=TrueUpMode.choices, default=TrueUpMode.FULL_COST)
    true_up_central_owner = TenantForeignKey(
        "owners.BudgetOwner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document = models.JSONField(default=dict, help_text="The whole rule set in canonical form.")
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rule_set", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule_set", "number"], name="rulesetversion_unique_number_per_set"
            ),
            models.UniqueConstraint(
                fields=["organization", "rule_set"],
                condition=models.Q(status="draft"),
                name="rulesetversion_one_draft_per_set",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="rulesetversion_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(true_up_mode__in=["full_cost", "usage_only", "none"]),
                name="rulesetversion_true_up_mode_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="rulesetversion_published_has_date",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="rulesetversion_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set_id} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _stored_status(self) -> str | None:
        if self._state.adding or self.pk is None:
            return None
        return type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise PublishedVersionError(f"Version {self.number} is published and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise PublishedVersionError(f"Version {self.number} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)


class AllocationRun(TenantModel):
    """One allocation of one period with one published rule-set version, written with its lines in one
    transaction. A period has at most one *draft* run, which a re-run replaces; a run becomes *issued*
    when statements are built from it and is kept for good (it explains them)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    period = models.DateField(help_text="First day of the allocated month.")
    billing_period = TenantForeignKey("periods.BillingPeriod", on_delete=models.PROTECT, related_name="+")
    rule_set_version = TenantForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    inputs_hash = models.CharField(
        max_length=64, help_text="sha256 of the cells, invoice totals, rules and the exchange rates used."
    )
    currency = models.CharField(max_length=3)
    conversion = TenantForeignKey(
        "fx.Conversion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The exchange rates that converted other currencies into the run's currency (null: none).",
    )
    pool_total_nano = models.BigIntegerField(help_text="Estimated cost plus every provider's invoice true-up.")
    estimated_nano = models.BigIntegerField()
    true_up_nano = models.BigIntegerField()
    allocated_nano = models.BigIntegerField()
    unallocated_nano = models.BigIntegerField()
    invoice_totals = models.JSONField(default=dict, help_text="Invoice total per provider, nano-units.")
    cells = models.PositiveIntegerField(default=0, help_text="Cost cells read from the usage cube.")
    line_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period__day=1), name="allocationrun_period_first_day"),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "issued"]), name="allocationrun_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(pool_total_nano=models.F("allocated_nano") + models.F("unallocated_nano")),
                name="allocationrun_conserves_pool",
            ),
            models.UniqueConstraint(
                fields=["organization", "period"],
                condition=models.Q(status="draft"),
                name="allocationrun_one_draft_per_period",
            ),
        ]
        indexes = [models.Index(fields=["organization", "period", "created_at"], name="allocrun_org_period")]

    def __str__(self) -> str:
        return f"Allocation #{self.pk} {self.period:%Y-%m} ({self.status})"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"


class AllocationLine(TenantModel):
    """One line of a run. ``owner`` is empty for Unallocated lines (method ``unallocated``), which carry
    the reason nothing claimed the cost in ``explanation``."""

    UNALLOCATED = "unallocated"

    run = TenantForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(help_text="Order of the line in the engine's output.")
    owner = TenantForeignKey(
        "owners.BudgetOwner", null=True, blank=True, on_delete=models.PROTECT, related_name="allocation_lines"
    )
    owner_code = models.CharField(max_length=40, blank=True, help_text="Empty for Unallocated.")
    feature = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    cost_source = models.CharField(max_length=20)
    amount_nano = models.BigIntegerField()
    rule_id = models.CharField(max_length=64, blank=True)
    rule_name = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=20)
    basis_nano = models.BigIntegerField(default=0)
    share = models.DecimalField(max_digits=16, decimal_places=12, default=0)
    explanation = models.TextField()
    match_tags = models.JSONField(
        default=dict, blank=True, help_text="Tags that pick this line's usage in the explorer (drill-down)."
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "run", "position"], name="allocationline_unique_position"),
            models.CheckConstraint(
                condition=(models.Q(method="unallocated") & models.Q(owner__isnull=True))
                | (~models.Q(method="unallocated") & models.Q(owner__isnull=False)),
                name="allocationline_owner_unless_unallocated",
            ),
        ]
        indexes = [models.Index(fields=["run", "owner_code"], name="allocline_run_owner")]

    def __str__(self) -> str:
        return f"{self.owner_code or 'Unallocated'} {self.provider} {self.model} {self.cost_source}"

    @property
    def is_unallocated(self) -> bool:
        return self.method == self.UNALLOCATED
