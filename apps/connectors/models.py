"""Provider connections: an organisation's credentials for a provider's usage and cost APIs, and each pull.

The credentials (an OpenAI admin key, an Anthropic Admin API key) are kept encrypted (``apps.connectors.crypto``,
Fernet with the keys of CONNECTOR_ENCRYPTION_KEYS): the column holds a token, never the key. Nothing shows a key
again after it was saved; the pages, the admin and the audit trail see only its last four characters."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel

MAX_REPULL_DAYS = 31


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI (organisation Costs and Usage APIs)"
    ANTHROPIC = "anthropic", "Anthropic (Admin API usage and cost reports)"


class PullStatus(models.TextChoices):
    NEVER = "never", "Never pulled"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ProviderConnection(TenantModel):
    """One set of credentials for one provider's reports, pulled on the schedule (CONNECTOR_PULL_EVERY_MINUTES)
    and by "pull now". Each pull reads from ``pulled_through`` minus ``repull_days`` (the days providers still
    restate) up to the end of today (UTC); a new connection reads CONNECTOR_BACKFILL_DAYS back."""

    provider = models.CharField(max_length=20, choices=Provider.choices)
    label = models.CharField(max_length=100, help_text="How the portal names it, e.g. 'OpenAI production org'.")
    credentials_encrypted = models.TextField(help_text="Fernet token of the credentials; never shown.")
    credentials_hint = models.CharField(max_length=12, blank=True, help_text="The key's last four characters.")
    repull_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REPULL_DAYS)],
        help_text="Days before the last pull's end read again on every pull: providers restate recent days.",
    )
    is_active = models.BooleanField(default=True, help_text="Pulled on the schedule.")
    pulled_through = models.DateTimeField(
        null=True, blank=True, help_text="End of the window of the last successful pull (exclusive)."
    )
    last_pull_status = models.CharField(max_length=20, choices=PullStatus.choices, default=PullStatus.NEVER)
    last_pull_started_at = models.DateTimeField(null=True, blank=True)
    last_pull_finished_at = models.DateTimeField(null=True, blank=True)
    last_pull_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "label"], name="providerconnection_unique_label"),
            models.CheckConstraint(
                condition=models.Q(repull_days__gte=1, repull_days__lte=MAX_REPULL_DAYS),
                name="providerconnection_repull_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.provider})"


class ConnectorPull(TenantModel):
    """One pull of a connection: its window, what it read (requests, pages, results, waits on 429) and the
    ingest jobs it handed the pages to (the same jobs and readers as an uploaded export)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Pull now"
        COMMAND = "command", "Management command"

    connection = TenantForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="pulls")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=PullStatus.choices, default=PullStatus.RUNNING)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests sent, retries included.")
    pages = models.PositiveIntegerField(default=0)
    results = models.PositiveIntegerField(default=0, help_text="Bucket results read, every report together.")
    rate_limited = models.PositiveIntegerField(default=0, help_text="429 answers waited out (Retry-After).")
    usage_job = TenantForeignKey("usage.IngestJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invoice_job = TenantForeignKey(
        "invoices.InvoiceIngestJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["organization", "connection", "started_at"], name="connectorpull_conn_started")]

    def __str__(self) -> str:
        return f"Pull #{self.pk} of {self.connection_id} ({self.status})"
