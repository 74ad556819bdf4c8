"""What changed, for systems outside: the event feed and the signed webhooks made from it.

An ``Event`` is written by the service that made the change, in the same transaction (``events.emit``), so
an event exists exactly when its change committed (a transactional outbox). ``seq`` numbers an
organisation's events without gaps and in commit order: ``emit`` takes the organisation's ``EventCounter``
row with an UPDATE that holds its lock to the end of the transaction, so a later number can never commit
before an earlier one. A client polling ``/api/v1/events/?after=<seq>`` therefore never skips an event.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class EventType(models.TextChoices):
    PERIOD_SUBMITTED = "period.submitted", "A period was submitted for review"
    PERIOD_APPROVED = "period.approved", "A period was approved"
    PERIOD_CLOSED = "period.closed", "A period was closed"
    PERIOD_REOPENED = "period.reopened", "A period was reopened"
    PERIOD_SENT_BACK = "period.sent_back", "A period was sent back from review to reconciling"
    STATEMENT_ISSUED = "statement.issued", "A draft statement was issued"
    STATEMENT_FINALIZED = "statement.finalized", "A statement became final"
    JOURNAL_READY = "journal.ready", "A period's journal entries are ready to post"
    DISPUTE_OPENED = "dispute.opened", "A dispute was opened"
    DISPUTE_RESOLVED = "dispute.resolved", "A dispute was resolved"
    BUDGET_THRESHOLD_CROSSED = "budget.threshold_crossed", "A budget threshold was crossed"


class EventCounter(TenantModel):
    """The last event number of one organisation (one row each)."""

    last = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="eventcounter_one_per_org")]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last}"


class Event(TenantModel):
    seq = models.BigIntegerField(help_text="The organisation's event number: gap-free, in commit order.")
    uid = models.UUIDField(default=uuid.uuid4, editable=False, help_text="Global id; the webhook-id header.")
    type = models.CharField(max_length=40, choices=EventType.choices)
    object_type = models.CharField(max_length=40, help_text='What changed: "period", "statement", …')
    object_id = models.CharField(max_length=64, help_text="Its id in the API (a number, or YYYY-MM for periods).")
    api_path = models.CharField(max_length=300, blank=True, help_text="Where the API serves it.")
    data = models.JSONField(default=dict, blank=True, help_text="A few fields of the object, never a copy of it.")
    actor_label = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="event_unique_seq_per_org"),
            models.UniqueConstraint(fields=["organization", "uid"], name="event_unique_uid_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "type", "seq"], name="event_org_type_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type} {self.object_type} {self.object_id}"

    def body_data(self, url: str | None) -> dict:
        """The ``data`` of its webhook body and of its feed row: the object's id, kind, API URL (absolute,
        or null when the API has no page for it) and the event's number, then the event's own fields."""
        data = {"id": self.object_id, "object": self.object_type, "url": url, "seq": self.seq}
        for key, value in self.data.items():
            data.setdefault(key, value)
        return data

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: the same on every attempt of this event to every endpoint."""
        return f"msg_{self.uid.hex}"


class WebhookEndpoint(TenantModel):
    """A URL an organisation's admins registered to receive signed deliveries of some event types.

    The secret (``whsec_`` + base64 of 24 random bytes, the Standard Webhooks form) signs every delivery; it
    is kept because signing needs it, and shown to people once (on registration and on rotation). After a
    rotation the previous secret still signs, next to the new one, until ``previous_secret_expires_at``."""

    url = models.CharField("URL", max_length=500, help_text="Checked by the services: http(s), no private target.")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types delivered here.")
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failed attempt since the last success (cleared by a success)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, now) -> list[str]:
        """The secrets that sign a delivery sent at ``now``: the current one, and the previous one during
        the rotation overlap."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(TenantModel):
    """One event to one endpoint: sent at once, then retried on the backoff schedule until a 2xx answer
    or the schedule runs out (``deliveries.RETRY_SCHEDULE``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = TenantForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made, all rounds together.")
    round_start = models.PositiveIntegerField(
        default=0, help_text="``attempts`` when the current round began (a redelivery starts a new round)."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "endpoint", "event"], name="webhookdelivery_unique")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}: {self.status}"


class WebhookAttempt(TenantModel):
    """One HTTP attempt of a delivery: what came back (or why nothing did), and how long it took."""

    delivery = TenantForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
