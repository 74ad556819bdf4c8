"""Appending to and verifying the per-organisation audit chain."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.mail import send_mail_on_commit
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped
from apps.tenancy.selectors import member_emails

from . import anchoring
from .models import GENESIS_HASH, AuditAnchor, AuditChainCheck, AuditEvent

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


@tenant_scoped(via="stored")
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
    Runs in the scope of ``stored``'s organisation.
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


@tenant_scoped(via="instance")
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
    # The last head published outside the database that the chain was held against (None: nothing published,
    # or no directory sink configured; ``anchor_note`` says which).
    anchored_seq: int | None = None
    anchor_note: str = ""


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


def _walk(events, *, expected_seq: int, prev_hash: str) -> tuple[int, str, AuditEvent | None, str]:
    """Walk ``events`` (seq order) from ``expected_seq``/``prev_hash``: (next seq, last hash, first bad, problem)."""
    for event in events:
        problem = _chain_problem(event, expected_seq=expected_seq, prev_hash=prev_hash)
        if problem:
            return expected_seq, prev_hash, event, problem
        prev_hash = event.hash
        expected_seq += 1
    return expected_seq, prev_hash, None, ""


def _sink_head(organization: Organization) -> tuple[anchoring.PublishedHead | None, str]:
    """The last head the directory sink holds for the organisation, and a problem if what it holds is not
    trustworthy (unreadable, another organisation's, or not signed with the current key)."""
    try:
        head = anchoring.directory_last_head(organization.pk)
    except anchoring.SinkUnreadable as exc:
        return None, f"the published heads cannot be read: {exc}"
    if head is None:
        return None, ""
    if head.organization_id != organization.pk:
        return head, f"the last published head belongs to organisation id {head.organization_id}, not this one"
    if not head.signed:
        return head, (
            f"the last published head (#{head.seq}, {head.published_at}) does not carry a valid signature: "
            "it was forged or altered (or AUDIT_ANCHOR_KEY changed)"
        )
    return head, ""


def _anchor_problem(organization: Organization, *, head: anchoring.PublishedHead, last_seq: int) -> str:
    """What the chain in the database says against a trusted published head ('' when it still reaches it)."""
    if last_seq < head.seq:
        return (
            f"the chain ends at #{last_seq} but #{head.seq} was published at {head.published_at}: "
            f"the newest {head.seq - last_seq} event(s) were removed"
        )
    stored = AuditEvent.objects.filter(seq=head.seq).values_list("hash", flat=True).first()
    if stored != head.hash:
        return (
            f"event #{head.seq} no longer has the hash published at {head.published_at}: "
            "the chain was rewritten up to it"
        )
    return ""


@tenant_scoped
def audit_chain_verify(*, organization: Organization) -> ChainVerification:
    """Walk the chain in seq order, report the first event that was changed, removed or reordered, and hold
    the chain against the last head published outside the database (the sink, never ``AuditAnchor``): the
    chain must still reach it, with the same hash, so removed newest events and a rewritten chain show."""
    next_seq, _, bad, problem = _walk(
        AuditEvent.objects.order_by("seq").iterator(chunk_size=2000), expected_seq=1, prev_hash=GENESIS_HASH
    )
    if bad is not None:
        return ChainVerification(organization.slug, next_seq, False, problem, bad.seq, bad.pk)
    last_seq = next_seq - 1
    if anchoring.directory() is None:
        return ChainVerification(organization.slug, last_seq, True, anchor_note="no anchor directory configured")
    head, problem = _sink_head(organization)
    if not problem and head is None:
        recorded = AuditAnchor.objects.filter(sinks__directory="ok").order_by("-seq").first()
        if recorded is not None:
            problem = (
                f"the anchor directory holds no published head, but #{recorded.seq} was published to it at "
                f"{recorded.published_at:%Y-%m-%d %H:%M} UTC: the sink was lost or AUDIT_ANCHOR_DIR moved"
            )
        else:
            return ChainVerification(organization.slug, last_seq, True, anchor_note="not anchored yet")
    if not problem:
        problem = _anchor_problem(organization, head=head, last_seq=last_seq)
    if problem:
        return ChainVerification(organization.slug, last_seq, False, problem, anchored_seq=head.seq if head else None)
    return ChainVerification(organization.slug, last_seq, True, anchored_seq=head.seq)


class AnchorRefused(Exception):
    """The chain does not continue the last published head: publishing its tail would anchor a rewrite."""


@tenant_scoped
def audit_anchor_publish(*, organization: Organization, now=None) -> AuditAnchor | None:
    """Publish the organisation's chain head to the sinks (apps/audit/anchoring.py) and record it.

    Nothing is published when there is no event, no sink, or the sink already holds the head. Before a head
    is published the chain is checked to continue the last published one: from it to the tail every event
    links and matches its hash (the first publication walks the whole chain); otherwise ``AnchorRefused``,
    and nothing is published. The organisation row is locked while the tail is read and the directory line
    written, so the line names a committed head (the organisation's audited writes wait meanwhile: a
    publication walks the events since the last head, an hour's worth; the first one walks the whole
    chain). Not itself an audit event: an event about anchoring would move the head it anchors. The
    webhook and the e-mail go after the commit; their answers are saved on the returned ``AuditAnchor``.
    """
    folder = anchoring.directory()
    if folder is None and not settings.AUDIT_ANCHOR_WEBHOOK_URL and not settings.AUDIT_ANCHOR_EMAILS:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True).first()
        tail = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        if tail is None:
            return None
        if folder is not None:
            head, problem = _sink_head(organization)
        else:
            recorded = AuditAnchor.objects.order_by("-seq", "-published_at").first()
            head = (
                anchoring.PublishedHead(organization.pk, recorded.seq, recorded.hash, "", "", True)
                if recorded
                else None
            )
            problem = ""
        if problem:
            raise AnchorRefused(problem)
        if head is not None and (head.seq, head.hash) == (tail["seq"], tail["hash"]):
            return None
        if head is None:
            start, prev_hash = 1, GENESIS_HASH
        else:
            problem = _anchor_problem(organization, head=head, last_seq=tail["seq"])
            if problem:
                raise AnchorRefused(problem)
            start, prev_hash = head.seq + 1, head.hash
        _, _, bad, problem = _walk(
            AuditEvent.objects.filter(seq__gte=start, seq__lte=tail["seq"]).order_by("seq").iterator(chunk_size=2000),
            expected_seq=start,
            prev_hash=prev_hash,
        )
        if bad is not None:
            raise AnchorRefused(problem)
        line = anchoring.make_line(
            organization_id=organization.pk,
            organization_slug=organization.slug,
            seq=tail["seq"],
            hash=tail["hash"],
            published_at=now,
        )
        sinks = {}
        if folder is not None:
            anchoring.directory_append(organization.pk, line)
            sinks["directory"] = "ok"
        anchor = AuditAnchor.objects.create(
            organization=organization,
            seq=tail["seq"],
            hash=tail["hash"],
            mac=line["mac"],
            published_at=now,
            sinks=dict(sinks),
        )
    if settings.AUDIT_ANCHOR_WEBHOOK_URL:
        sinks["webhook"] = anchoring.webhook_post(line)
    if settings.AUDIT_ANCHOR_EMAILS:
        subject = f"[{organization.name}] Audit trail head #{line['seq']}"[:200]
        # Queued with retries (core.send_mail): "queued" is all this process can know of its delivery.
        sinks["email"] = (
            "queued"
            if send_mail_on_commit(subject, anchoring.email_body(line), settings.AUDIT_ANCHOR_EMAILS)
            else "no address"
        )
    if sinks != anchor.sinks:
        AuditAnchor.objects.filter(organization=organization, pk=anchor.pk).update(sinks=sinks)
        anchor.sinks = sinks
    return anchor


ALERT_REPEAT_AFTER = timedelta(hours=24)


@tenant_scoped
def audit_chain_check(*, organization: Organization, alert: bool = True, now=None) -> AuditChainCheck:
    """Verify the chain (``audit_chain_verify``) and keep the finding; on a failure e-mail the organisation's
    admins (after the commit). The nightly beat task runs it for every organisation. The finding is its own
    record, not an audit event: a nightly event would move the head every night, and an event appended to a
    broken chain proves nothing."""
    now = now or timezone.now()
    result = audit_chain_verify(organization=organization)
    recipients = []
    if alert and not result.ok:
        # The same finding is mailed once a day, however often the hourly publication runs into it.
        already = AuditChainCheck.objects.filter(
            ok=False, problem=result.problem, alerted__gt=0, checked_at__gt=now - ALERT_REPEAT_AFTER
        ).exists()
        recipients = [] if already else member_emails(organization=organization, role=Role.ORG_ADMIN)
    with transaction.atomic():
        check = AuditChainCheck.objects.create(
            organization=organization,
            checked_at=now,
            ok=result.ok,
            events_checked=result.events_checked,
            anchored_seq=result.anchored_seq,
            problem=result.problem,
            alerted=len(recipients),
        )
        if recipients:
            link = settings.PORTAL_URL + reverse("audit:history", kwargs={"org_slug": organization.slug})
            subject = f"[{organization.name}] Audit trail verification FAILED"
            body = (
                f"The nightly verification of the audit trail of {organization.name} failed:\n\n"
                f"{result.problem}\n\n"
                "Events were changed, removed or rewritten outside the portal, or the published heads it is "
                "checked against were altered. Treat it as a security incident: keep the database and the "
                "anchor directory as they are, and compare them with the heads your auditors received.\n\n"
                f"Audit trail: {link}\n"
            )
            send_mail_on_commit(subject, body, recipients)
    return check
