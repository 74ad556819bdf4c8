"""A piece of heavy work done by a Celery worker for someone: a reconciliation run, an allocation run, a
period transition that issues statements. The request that asks for it records a ``Job`` and returns at once;
the worker runs the job's kind (``registry``), reporting progress the page polls, and ends it succeeded (with
where to look at the result) or failed (with the reason, and a retry).

The job is the record of the work, not its result: the result is the run, the statements, whatever the kind
makes, written by the kind in one transaction, so a job interrupted half-way leaves nothing half-written."""

from django.conf import settings
from django.db import models

from apps.tenancy.models import TenantModel


class Job(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # The worker stopped sending heartbeats (killed, lost): a retry runs it again.
        INTERRUPTED = "interrupted", "Interrupted"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=60, help_text='What it does: a registered kind, e.g. "reconciliation.run".')
    title = models.CharField(max_length=200, help_text='How people see it: "Reconcile 2026-10".')
    params = models.JSONField(default=dict, blank=True, help_text="What the kind needs to run it (ids, a month).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="What the kind made (its ids, figures).")
    result_url = models.CharField(max_length=300, blank=True, help_text="The page that shows the result.")
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    dedupe_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="Work that must not run twice at once (one reconciliation of a month): while a job with this "
        "key is queued or running, asking again returns it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last queued (made, or retried): how long it waits for a worker."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running it (each progress report)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False, status__in=["queued", "running"]),
                name="job_one_active_per_dedupe_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed", "interrupted"]),
                name="job_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="job_org_created"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"Job #{self.pk} {self.kind} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.INTERRUPTED)

    @property
    def progress_pct(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(99, self.progress_done * 100 // self.progress_total)
