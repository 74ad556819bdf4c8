import hashlib
import json

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from apps.tenancy.models import TenantModel

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a row that is append-only."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only and cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only and cannot be deleted.")


class AuditEvent(TenantModel):
    """One recorded change. Append-only, hash-chained per organisation.

    ``hash`` is SHA-256 over the canonical JSON of the event's content plus ``prev_hash``, so a
    changed, removed or reordered event breaks the chain from that point on. Database triggers
    refuse UPDATE and DELETE (see migration 0002); the model refuses them too.
    """

    seq = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Username or API client, as it was at the time.")
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    objects = ScopedManager(
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        ordering = ["organization_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="auditevent_unique_seq_per_org"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="auditevent_seq_positive"),
        ]
        indexes = [
            models.Index(fields=["organization", "action"], name="auditevent_org_action"),
            models.Index(fields=["organization", "object_type", "object_id"], name="auditevent_org_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only and cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only and cannot be deleted.")

    def canonical_payload(self) -> dict:
        return {
            "organization": self.organization_id,
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.canonical_payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditAnchor(TenantModel):
    """One publication of an organisation's chain head to the sinks outside the database (apps/audit/anchoring.py).

    A record for people (what was published when, and how each sink answered), never evidence: someone who can
    rewrite the chain can rewrite this table too, so ``audit_chain_verify`` reads the head back from the sink.
    """

    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, help_text="HMAC-SHA256 of the published line, keyed with AUDIT_ANCHOR_KEY.")
    published_at = models.DateTimeField()
    sinks = models.JSONField(default=dict, help_text="Each sink's answer: 'ok' or why it failed.")

    class Meta:
        ordering = ["organization_id", "-published_at", "-id"]
        indexes = [models.Index(fields=["organization", "-seq"], name="auditanchor_org_seq")]

    def __str__(self) -> str:
        return f"head #{self.seq} published {self.published_at:%Y-%m-%d %H:%M}"


class AuditChainCheck(TenantModel):
    """One verification of an organisation's chain (the nightly task or the command), kept with its finding."""

    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    events_checked = models.PositiveBigIntegerField(default=0)
    anchored_seq = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The last published head the chain was checked against, if any."
    )
    problem = models.TextField(blank=True)
    alerted = models.PositiveIntegerField(default=0, help_text="Org admins e-mailed about a failure.")

    class Meta:
        ordering = ["organization_id", "-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{'intact' if self.ok else 'BROKEN'} at {self.checked_at:%Y-%m-%d %H:%M}"
