"""Appending to and verifying the per-organisation audit chain."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import GENESIS_HASH, AuditEvent

# What an event records of a value, a model or an actor: pure, and imported from here by every audited write.
from .snapshots import actor_label_for, model_snapshot, normalise_for_audit  # noqa: F401

M = TypeVar("M", bound=models.Model)


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


def audited_update(
    *,
    instance: M,
    stored: M,
    snapshot: Callable[[M], dict],
    change: Callable[[M], object],
    actor,
    action: str,
    reason: str = "",
) -> M:
    """The one sequence of an audited change to a tenant row, inside the caller's transaction.

    ``stored`` is the row as the caller locked it. Its snapshot is taken, ``change(stored)`` validates
    (raising ``ValidationError`` writes nothing) and applies the change to it (writing any rows that hang
    off it itself, such as many-to-many links or aliases), and the snapshot is taken again. Only when the
    snapshot moved is the row saved and one event recorded with both snapshots; a change that changes
    nothing writes nothing. The caller's own copy, ``instance``, is refreshed when it is not ``stored``.
    """
    before = snapshot(stored)
    change(stored)
    after = snapshot(stored)
    if after != before:
        stored.save()
        audit_record(
            organization=stored.organization,
            actor=actor,
            action=action,
            target=stored,
            before=before,
            after=after,
            reason=reason,
        )
    if instance is not stored:
        instance.refresh_from_db()
    return stored


def set_active(
    *,
    instance: models.Model,
    active: bool,
    update: Callable[..., M],
    label: str,
    event: str,
    actor,
    reason: str = "",
) -> M:
    """Deactivate (``active=False``) or reactivate a row through its audited update.

    Rows that others refer to are never deleted but deactivated. ``update(data=..., action=..., actor=...,
    reason=...)`` is the row's update service bound to the row; the event is ``<event>.deactivated`` or
    ``<event>.reactivated``. A row already in that state is refused on ``is_active`` ("<label> is already
    inactive.").
    """
    if instance.is_active == active:
        raise ValidationError({"is_active": f"{label} is already {'active' if active else 'inactive'}."})
    return update(
        data={"is_active": active},
        action=f"{event}.{'reactivated' if active else 'deactivated'}",
        actor=actor,
        reason=reason,
    )


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
