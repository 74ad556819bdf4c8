"""What every ingest job is, whatever it reads: an abstract base (no table of its own) that the usage and the
invoice job models extend, and the statuses and channels they share.

Each kind keeps its own vocabulary where it differs: a kind that knows more states (invoices can refuse a
file before writing anything) or channels (demo data) builds its enum with ``extend_choices`` from the shared
one, so the common values are written once."""

from django.conf import settings
from django.db import models

from apps.tenancy.models import TenantModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # The worker stopped sending heartbeats (killed, lost): retrying runs it again.
    INTERRUPTED = "interrupted", "Interrupted"


class JobChannel(models.TextChoices):
    UPLOAD = "upload", "Portal upload"
    API = "api", "REST API"
    COMMAND = "command", "Management command"
    # Pulled from a provider's usage or cost API by a connection (apps/connectors).
    CONNECTOR = "connector", "Provider connector"


def extend_choices(
    name: str,
    base: type[models.TextChoices],
    *,
    labels: dict[str, str] | None = None,
    extra: dict[str, tuple[str, str]] | None = None,
    after: str | None = None,
) -> type[models.TextChoices]:
    """A TextChoices named ``name`` with ``base``'s members (relabelled by ``labels``, by member name) and
    the ``extra`` members (name: (value, label)) inserted after the member ``after`` (at the end without)."""
    labels = labels or {}
    members = [(member.name, (member.value, labels.get(member.name, member.label))) for member in base]
    position = len(members) if after is None else [n for n, _ in members].index(after) + 1
    members[position:position] = list((extra or {}).items())
    return models.TextChoices(name, members)


class IngestJobBase(TenantModel):
    """One received file (or API body) and how reading it went: its counts, its errors, its liveness.

    A subclass with a vocabulary of its own redeclares ``status``/``channel`` with its choices; the
    unique Idempotency-Key per organisation is named after the subclass (``<class>_unique_idempotency_key``).
    """

    Status = JobStatus
    Channel = JobChannel

    channel = models.CharField(max_length=20, choices=JobChannel.choices)
    format = models.CharField(max_length=30)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    payload = models.CharField(max_length=500, help_text="Where the received bytes are kept for (re-)running.")
    payload_deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the received bytes were deleted: once the job cannot be re-run, or its retention "
        "(INGEST_PAYLOAD_RETENTION_DAYS) ran out. Empty while they are kept.",
    )
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    rows_total = models.PositiveBigIntegerField(default=0)
    accepted = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running it (each committed chunk)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="%(class)s_unique_idempotency_key",
            ),
        ]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def is_active(self) -> bool:
        """Queued or running: something is (or should be) working on it."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def refused_as_whole(self) -> bool:
        """The file itself was refused (nothing of it can be read): a retry cannot help, a new upload can."""
        raise NotImplementedError

    @property
    def can_retry(self) -> bool:
        raise NotImplementedError

    @property
    def payload_kept(self) -> bool:
        """The received bytes are still kept (a retry can read them again)."""
        return self.payload_deleted_at is None
