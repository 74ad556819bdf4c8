"""What changed, for systems outside: the event feed and the signed webhooks made from it.

An ``Event`` is written by the service that made the change, in the same transaction (``events.emit``), so
an event exists exactly when its change committed (a transactional outbox). ``seq`` numbers an
organisation's events without gaps and in commit order: ``emit`` takes the organisation's ``EventCounter``
row with an UPDATE that holds its lock to the end of the transaction, so a later number can never commit
before an earlier one. A client polling ``/api/v1/events/?after=<seq>`` therefore never skips an event.
"""

import uuid

from django.db import models
from django.utils import timezone

from apps.tenancy.models import TenantModel


class EventType(models.TextChoices):
    PERIOD_SUBMITTED = "period.submitted", "A period was submitted for review"
    PERIOD_APPROVED = "period.approved", "A period was approved"
    PERIOD_CLOSED = "period.closed", "A period was closed"
    PERIOD_REOPENED = "period.reopened", "A period was reopened"
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

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: the same on every attempt of this event to every endpoint."""
        return f"msg_{self.uid.hex}"
