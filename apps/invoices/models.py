"""Provider bills: the invoices and cost reports that chargeback ties back to.

Amounts are stored as integers of nano-units (10**-9 of the currency), like every request-level cost
in the project: SQLite keeps DecimalField values as REAL, so a SQL SUM over decimals could drift by a
fraction of a cent, while integer SUMs are exact on SQLite and PostgreSQL alike, and reconciliation
can compare ``InvoiceLine.amount_nano`` with ``DailyUsage.estimated_nano`` directly. Digits beyond the
ninth decimal (OpenAI sends amounts with up to 17 significant digits) are rounded half-to-even per
line; the exact source text is kept in ``InvoiceLine.raw``. An invoice total is always the exact sum
of its lines.
"""

from django.db import models

from apps.core.money import nano_to_decimal
from apps.ingest.models import IngestJobBase, JobChannel, JobStatus, extend_choices
from apps.pricing.constants import BILL_COST_SOURCES, COST_SOURCE_LABELS
from apps.tenancy.keys import TenantForeignKey, TenantManyToManyField
from apps.tenancy.models import TenantModel


class CostView(models.TextChoices):
    BILLED = "billed", "Billed cost (invoice view)"
    EFFECTIVE = "effective", "Effective cost (amortised view)"


class InvoiceSettings(TenantModel):
    """Per-organisation choices for reading bills. One row per organisation, created on first use."""

    focus_cost_view = models.CharField(
        max_length=10,
        choices=CostView.choices,
        default=CostView.BILLED,
        help_text="Which FOCUS column is the amount: BilledCost (what the invoice says) or EffectiveCost "
        "(commitments and prepayments amortised over the usage they cover).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "invoice settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="invoicesettings_one_per_org")]

    def __str__(self) -> str:
        return f"Invoice settings ({self.focus_cost_view})"


class InvoiceIngestJob(IngestJobBase):
    """One invoice file (or API body), read in one transaction: its counts, errors and the invoices it touched."""

    Status = extend_choices(
        "Status",
        JobStatus,
        labels={
            "FAILED": "Failed (nothing written)",
            # The worker stopped sending heartbeats (killed, lost); nothing was written: retrying reads it again.
            "INTERRUPTED": "Interrupted (nothing written)",
        },
        extra={"REFUSED": ("refused", "Refused (nothing written)")},
        after="SUCCEEDED",
    )
    Channel = extend_choices("Channel", JobChannel, extra={"DEMO": ("demo", "Demo data")})

    # Its own vocabulary (above), the counts of a bill (integers: a bill is far smaller than a month of
    # usage) and its own wording: redeclared over the base's.
    channel = models.CharField(max_length=20, choices=Channel.choices)
    payload = models.CharField(max_length=500, help_text="Where the received bytes are kept.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    cost_view = models.CharField(max_length=10, choices=CostView.choices, default=CostView.BILLED)
    rows_total = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    restated = models.PositiveIntegerField(
        default=0,
        help_text="Accepted lines that superseded an earlier line of the same cost-report bucket (a re-pull with "
        "another amount).",
    )
    invoices = TenantManyToManyField(
        "ProviderInvoice", through="InvoiceIngestJobInvoice", blank=True, related_name="jobs"
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running it (while reading the file)."
    )

    def __str__(self) -> str:
        return f"Invoice import #{self.pk} {self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.REFUSED, self.Status.FAILED)

    @property
    def refused_as_whole(self) -> bool:
        return self.status == self.Status.REFUSED

    @property
    def can_retry(self) -> bool:
        """Interrupted or failed (nothing was written either way); a refused file needs a new upload."""
        return self.status in (self.Status.INTERRUPTED, self.Status.FAILED)

    @property
    def progress_pct(self) -> int:
        return 100 if self.is_finished else 0


class InvoiceIngestError(TenantModel):
    """A rejected row of an invoice file: where it was and why. The valid rows of the file are kept."""

    job = TenantForeignKey(InvoiceIngestJob, on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=100)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "line", "id"]


class ProviderInvoice(TenantModel):
    """One provider bill for one month (an invoice, or the month of a cost report)."""

    class Status(models.TextChoices):
        INGESTED = "ingested", "Ingested"

    provider = models.CharField(max_length=40, help_text="Who bills: openai, anthropic, aws, azure, google, …")
    invoice_number = models.CharField(
        max_length=200, help_text="The provider's invoice id, or a derived id for cost reports that have none."
    )
    billing_period = models.DateField(help_text="First day of the billed month.")
    currency = models.CharField(max_length=3)
    total_nano = models.BigIntegerField(default=0, help_text="Exact sum of the lines, in nano-units.")
    source_format = models.CharField(max_length=30)
    source_sha256 = models.CharField(max_length=64, help_text="sha256 of the file that last added lines.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INGESTED)
    view = models.CharField(
        max_length=10, choices=CostView.choices, default=CostView.BILLED, help_text="FOCUS cost column read."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-billing_period", "provider", "invoice_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "invoice_number", "billing_period"],
                name="providerinvoice_unique_number_per_period",
            ),
            models.CheckConstraint(condition=models.Q(billing_period__day=1), name="providerinvoice_period_first_day"),
        ]
        indexes = [models.Index(fields=["organization", "billing_period"], name="providerinvoice_org_period")]

    def __str__(self) -> str:
        return f"{self.provider} {self.invoice_number} ({self.billing_period:%Y-%m})"

    @property
    def total(self):
        return nano_to_decimal(self.total_nano)

    @property
    def period_label(self) -> str:
        return f"{self.billing_period:%Y-%m}"


class InvoiceIngestJobInvoice(TenantModel):
    """The link behind ``InvoiceIngestJob.invoices``: an explicit table, so it carries the organisation (its
    manager fills it from the job or the invoice: ``job.invoices.add(invoice)`` needs nothing more)."""

    invoiceingestjob = TenantForeignKey(InvoiceIngestJob, on_delete=models.CASCADE, related_name="+")
    providerinvoice = TenantForeignKey(ProviderInvoice, on_delete=models.CASCADE, related_name="+")

    # Django reads and writes a link table with its default manager, also outside any scope (the admin, a
    # deletion's collector): that one is plain; ``objects`` stays scoped.
    unscoped = models.Manager()

    class Meta:
        db_table = "invoices_invoiceingestjob_invoices"
        default_manager_name = "unscoped"
        verbose_name = "invoice touched by an import"
        verbose_name_plural = "invoices touched by imports"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invoiceingestjob", "providerinvoice"], name="invoiceingestjobinvoice_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Import #{self.invoiceingestjob_id} touched invoice #{self.providerinvoice_id}"


class InvoiceLine(TenantModel):
    """One charge of a bill. Denormalised (organisation, billing period, provider, model, cost source) so
    reconciliation can aggregate lines with one GROUP BY and no join."""

    CostSource = models.TextChoices(
        "CostSource", [(source.upper(), (source, label)) for source, label in COST_SOURCE_LABELS.items()]
    )

    class ChargeCategory(models.TextChoices):
        USAGE = "Usage", "Usage"
        PURCHASE = "Purchase", "Purchase"
        TAX = "Tax", "Tax"
        CREDIT = "Credit", "Credit"
        ADJUSTMENT = "Adjustment", "Adjustment"

    invoice = TenantForeignKey(ProviderInvoice, on_delete=models.CASCADE, related_name="lines")
    job = TenantForeignKey(InvoiceIngestJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    billing_period = models.DateField(help_text="Copied from the invoice, for aggregation without a join.")
    charge_period_start = models.DateTimeField()
    charge_period_end = models.DateTimeField()
    provider = models.CharField(
        max_length=40, help_text="The AI provider as usage names it (openai, anthropic, google, aws-bedrock, …)."
    )
    service = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=120, blank=True, help_text="Canonical model code, or the raw name.")
    model_raw = models.CharField(max_length=200, blank=True)
    cost_source = models.CharField(max_length=20, choices=CostSource.choices, default=CostSource.OTHER)
    usage_type = models.CharField(max_length=300, blank=True, help_text="The source's own usage type or line item.")
    charge_category = models.CharField(max_length=20, choices=ChargeCategory.choices, default=ChargeCategory.USAGE)
    is_ai = models.BooleanField(default=True)
    quantity = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    amount_nano = models.BigIntegerField(help_text="Nano-units; negative for credits.")
    currency = models.CharField(max_length=3)
    tags = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, help_text="The source row as read (amounts as their original text).")
    source_line = models.PositiveIntegerField(default=0, help_text="Line (or item) number in the source file.")
    line_key = models.CharField(max_length=64, help_text="sha256 of the source row: re-ingesting it is a no-op.")
    bucket_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="Cost reports only: sha256 of the bucket without its amount. A re-pull with another amount for "
        "the same bucket supersedes this line (it moves to the restatements).",
    )

    class Meta:
        ordering = ["invoice", "charge_period_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "line_key"], name="invoiceline_unique_line_key"),
            models.UniqueConstraint(
                fields=["organization", "bucket_key"],
                condition=models.Q(bucket_key__isnull=False),
                name="invoiceline_unique_bucket_key",
            ),
            models.CheckConstraint(
                condition=models.Q(cost_source__in=list(BILL_COST_SOURCES)), name="invoiceline_cost_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "billing_period", "provider"], name="invoiceline_org_period_prov"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.model or self.service} {self.cost_source} {self.amount}"

    @property
    def amount(self):
        return nano_to_decimal(self.amount_nano)


class InvoiceLineRestatement(TenantModel):
    """A cost-report line that a later report superseded: the same bucket re-pulled with another amount. The
    superseded line leaves ``InvoiceLine`` (so every reader of lines sees the latest report only, and the invoice
    total equals it) and is kept here as it was, with what replaced it and when."""

    invoice = TenantForeignKey(ProviderInvoice, on_delete=models.CASCADE, related_name="restatements")
    job = TenantForeignKey(
        InvoiceIngestJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The import that had stored the superseded line.",
    )
    superseded_by_job = TenantForeignKey(
        InvoiceIngestJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="restatements",
        help_text="The import whose line replaced it (empty for lines resolved by the migration that brought "
        "restatements in, when the newer line had no import left).",
    )
    bucket_key = models.CharField(max_length=64)
    line_key = models.CharField(max_length=64)
    billing_period = models.DateField()
    charge_period_start = models.DateTimeField()
    charge_period_end = models.DateTimeField()
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    cost_source = models.CharField(max_length=20)
    usage_type = models.CharField(max_length=300, blank=True)
    amount_nano = models.BigIntegerField(help_text="The superseded amount, nano-units.")
    new_amount_nano = models.BigIntegerField(help_text="The amount of the line that replaced it, nano-units.")
    currency = models.CharField(max_length=3)
    raw = models.JSONField(default=dict)
    source_line = models.PositiveIntegerField(default=0)
    superseded_at = models.DateTimeField()

    class Meta:
        ordering = ["invoice", "-superseded_at", "-id"]
        indexes = [models.Index(fields=["organization", "invoice"], name="invoicerestatement_org_invoice")]

    def __str__(self) -> str:
        return f"{self.provider} {self.model} {self.cost_source}: {self.amount} → {self.new_amount}"

    @property
    def amount(self):
        return nano_to_decimal(self.amount_nano)

    @property
    def new_amount(self):
        return nano_to_decimal(self.new_amount_nano)

    @property
    def delta_nano(self) -> int:
        return self.new_amount_nano - self.amount_nano

    @property
    def delta(self):
        return nano_to_decimal(self.delta_nano)
