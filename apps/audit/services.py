"""Appending to and verifying the per-organisation audit chain."""

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import GENESIS_HASH, AuditEvent

# What an event records of a value, a model or an actor: pure, and imported from here by every audited write.
from .snapshots import actor_label_for, model_snapshot, normalise_for_audit  # noqa: F401


@tenant_scoped
def audit_record(
    *,
    organization: Organization,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    before=None,
    after=None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the organisation's chain, inside the caller's transaction.

    The organisation row is locked first, so concurrent appends queue instead of both reading the
    same tail; the (organization, seq) unique constraint is the backstop if anything skips that.
    ``actor`` is a user, an API principal (anything with ``audit_label``) or None for the system.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records.")
    Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True).first()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    user = actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None)
    tail = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    event = AuditEvent(
        organization=organization,
        seq=(tail["seq"] + 1) if tail else 1,
        prev_hash=tail["hash"] if tail else GENESIS_HASH,
        created_at=timezone.now(),
        actor=user,
        actor_label=actor_label_for(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=normalise_for_audit(before),
        after=normalise_for_audit(after),
        reason=reason,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


@dataclass(frozen=True)
class ChainVerification:
    organization_slug: str
    events_checked: int
    ok: bool
    problem: str = ""
    first_bad_seq: int | None = None
    first_bad_id: int | None = None


def _chain_problem(event: AuditEvent, *, expected_seq: int, prev_hash: str) -> str:
    if event.seq != expected_seq:
        return (
            f"event #{event.seq} (id {event.pk}) follows #{expected_seq - 1}: "
            f"{event.seq - expected_seq} event(s) before it were removed"
        )
    if event.prev_hash != prev_hash:
        return (
            f"event #{event.seq} (id {event.pk}) does not link to the event before it: "
            "an event was removed, inserted or reordered"
        )
    if event.compute_hash() != event.hash:
        return (
            f"event #{event.seq} (id {event.pk}) was changed after it was written "
            "(its content no longer matches its hash)"
        )
    return ""


@tenant_scoped
def audit_chain_verify(*, organization: Organization) -> ChainVerification:
    """Walk the chain in seq order; report the first event that was changed, removed or reordered."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        problem = _chain_problem(event, expected_seq=expected_seq, prev_hash=prev_hash)
        if problem:
            return ChainVerification(organization.slug, expected_seq, False, problem, event.seq, event.pk)
        prev_hash = event.hash
        expected_seq += 1
    return ChainVerification(organization.slug, expected_seq - 1, True)
