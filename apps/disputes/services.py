"""Writes on disputes: open, comment, accept (into an adjustment pair), reject. Each runs in one
transaction with the period row locked first (the same order as a period transition, so an approval
cannot slip between a check and a write), writes its audit event and its event (``events``: opened,
resolved), and e-mails after commit.

Opening and accepting then lock the statement and the line (every lock filtered by organisation, one row
per table), and only then check that what is open or credited fits in what was charged: two requests at
once wait for each other, and the second sees the first's dispute or credit.

Who may do what is checked by the views (``Perm.OPEN_DISPUTES`` on a visible statement,
``Perm.RESOLVE_DISPUTES`` for the queue); these functions check what the data allows, and that no API token
resolves a dispute (a human action: ``tenancy.roles.HUMAN_ONLY_PERMS``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from apps.accounts.authentication import ApiPrincipal
from apps.audit.services import actor_label_for, audit_record
from apps.core.money import currency_exponent, decimal_to_nano, nano_to_decimal, quantize_money
from apps.owners.models import BudgetOwner
from apps.periods.hooks import Blocker
from apps.periods.models import BillingPeriod
from apps.statements.deadlines import dispute_last_day, dispute_window_open
from apps.statements.models import Statement, StatementLine
from apps.statements.services import adjustment_pair_create, statements_rebuild
from apps.tenancy.roles import HUMAN_ONLY_MESSAGE
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.models import EventType

from . import notifications, selectors
from .events import dispute_event_emit
from .models import Dispute, DisputeComment

MAX_TEXT = 4000


def _money(nano: int, currency: str) -> str:
    return f"{quantize_money(nano_to_decimal(nano), currency):,} {currency}"


def _amount_nano(value, *, field: str, currency: str) -> int:
    """A positive amount of the currency with no more decimals than its minor unit, in nano-units."""
    if not isinstance(value, Decimal):
        raise ValidationError({field: "Give the amount as a number, e.g. 12.50."})
    if not value.is_finite() or value <= 0:
        raise ValidationError({field: "The amount must be more than zero."})
    places = currency_exponent(currency)
    if value != quantize_money(value, currency):  # exact at any size (a plain quantize fails past 28 digits)
        raise ValidationError({field: f"{currency} amounts have at most {places} decimals."})
    return decimal_to_nano(value)


def _text(value: str, *, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: f"Keep it under {MAX_TEXT} characters."})
    return value


def _locked_period(organization, billing_period_id: int) -> BillingPeriod:
    return BillingPeriod.objects.select_for_update().get(organization=organization, pk=billing_period_id)


def _snapshot(dispute: Dispute) -> dict:
    return {
        "statement": dispute.statement.reference,
        "line": dispute.line.position if dispute.line_id else None,
        "owner": dispute.owner.code,
        "amount_nano": dispute.amount_nano,
        "currency": dispute.currency,
        "status": dispute.status,
    }


# --- guards and facts of period transitions ----------------------------------------------------


@tenant_scoped(via="billing_period")
def open_disputes_count(*, billing_period: BillingPeriod) -> int:
    return Dispute.objects.filter(billing_period=billing_period, status=Dispute.Status.OPEN).count()


def _open_disputes_blocker(billing_period: BillingPeriod, *, before: str) -> str | None:
    """The message naming the period's open disputes, linking to the one open dispute (or to the queue of the
    period's open disputes when there are several)."""
    open_ids = list(
        Dispute.objects.filter(billing_period=billing_period, status=Dispute.Status.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)[:2]
    )
    if not open_ids:
        return None
    slug = billing_period.organization.slug
    if len(open_ids) == 1:
        url = reverse("disputes:detail", kwargs={"org_slug": slug, "pk": open_ids[0]})
        return Blocker(f"1 dispute is still open: resolve it before {before}.", url=url)
    count = open_disputes_count(billing_period=billing_period)
    url = f"{reverse('disputes:list', kwargs={'org_slug': slug})}?status=open&period={billing_period.label}"
    return Blocker(f"{count} disputes are still open: resolve them before {before}.", url=url)


@tenant_scoped(via="billing_period")
def guard_no_open_disputes(*, billing_period: BillingPeriod, actor=None) -> str | None:
    """Guard of ``approve``: every dispute of the period is resolved."""
    return _open_disputes_blocker(billing_period, before="approving")


@tenant_scoped(via="billing_period")
def guard_send_back_no_open_disputes(*, billing_period: BillingPeriod, actor=None) -> str | None:
    """Guard of ``send_back``: an open dispute is about a draft that sending back would withdraw, so it is
    answered first (accepted: its credit carries into the next drafts; rejected: with the reason)."""
    return _open_disputes_blocker(billing_period, before="sending the period back (its statement would be withdrawn)")


@tenant_scoped
def open_disputes_fact(*, organization, billing_periods: list[BillingPeriod]) -> dict[int, int]:
    """The periods board's "Open disputes" column: open disputes per period, in one query."""
    if not billing_periods:
        return {}
    counts = {bp.pk: 0 for bp in billing_periods}
    rows = (
        Dispute.objects.filter(billing_period__in=billing_periods, status=Dispute.Status.OPEN)
        .values("billing_period_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["billing_period_id"]] = row["n"]
    return counts


# --- writes --------------------------------------------------------------------------------------


class DuplicateSubmission(ValidationError):
    """The dispute was opened already: the same form submitted again (its token), or the same person
    disputing the same line for the same amount and reason while that dispute is still open. ``dispute``
    is the one that exists."""

    def __init__(self, message: str, *, dispute: Dispute):
        super().__init__(message)
        self.dispute = dispute


@tenant_scoped(via="statement")
def dispute_window_closed_message(*, statement: Statement) -> str:
    days = statement.organization.dispute_window_business_days
    return (
        f"The dispute window of {statement.reference} has closed: disputes were open until the end of "
        f"{dispute_last_day(statement):%A %-d %B %Y}, {days} business day{'s' if days != 1 else ''} after it was "
        f"issued on {statement.issued_at:%-d %B %Y}. Ask finance if the charge is still wrong."
    )


def _what(line: StatementLine | None) -> str:
    return f"line {line.position}" if line is not None else "the statement"


def _room_refusal(room: selectors.Room, amount_nano: int, *, what: str, currency: str) -> str | None:
    """Why ``amount_nano`` does not fit in what is left to dispute, saying how much does."""
    if room.charged_nano <= 0:
        return f"Nothing is charged on {what}, so there is nothing to dispute."
    if amount_nano <= room.left_nano:
        return None
    if room.claimed_nano == 0:
        return f"You can dispute at most {_money(room.charged_nano, currency)}, the amount of {what}."
    claimed = (
        f"{_money(room.claimed_nano, currency)} of its {_money(room.charged_nano, currency)} is already disputed "
        "or credited"
    )
    if room.left_nano == 0:
        return f"Nothing more can be disputed on {what} ({_money(0, currency)} left): {claimed}."
    return f"You can dispute at most {_money(room.left_nano, currency)} more on {what}: {claimed}."


def _credit_refusal(room: selectors.Room, amount_nano: int, *, what: str, currency: str) -> str | None:
    """Why crediting ``amount_nano`` would credit more than was charged, saying how much may still be."""
    if amount_nano <= room.left_nano:
        return None
    credited = (
        f"{_money(room.claimed_nano, currency)} of its {_money(room.charged_nano, currency)} is already credited "
        "by other disputes"
    )
    if room.left_nano == 0:
        return f"Nothing more can be credited on {what} ({_money(0, currency)} left): {credited}; reject this dispute."
    return f"Credit at most {_money(room.left_nano, currency)} on {what}: {credited}."


def _locked_statement(organization, statement_id: int) -> Statement:
    return Statement.objects.select_for_update().get(organization=organization, pk=statement_id)


def _locked_line(organization, line_id: int) -> StatementLine | None:
    return StatementLine.objects.select_for_update().filter(organization=organization, pk=line_id).first()


def _already_opened(
    *, organization, actor, statement: Statement, line, amount_nano: int, reason: str, submission_key
) -> DuplicateSubmission | None:
    if submission_key is not None and actor is not None:
        earlier = Dispute.objects.filter(
            organization=organization, opened_by=actor, submission_key=submission_key
        ).first()
        if earlier is not None:
            return DuplicateSubmission(
                f"Dispute #{earlier.pk} was already opened from this form: it was submitted twice.", dispute=earlier
            )
    twin = (
        Dispute.objects.filter(
            organization=organization,
            opened_by=actor,
            statement=statement,
            line=line,
            amount_nano=amount_nano,
            reason=reason,
            status=Dispute.Status.OPEN,
        )
        .order_by("pk")
        .first()
    )
    if twin is not None:
        return DuplicateSubmission(
            f"You already opened dispute #{twin.pk} for {_money(amount_nano, statement.currency)} on "
            f"{_what(line)} with the same reason, and it is still open.",
            dispute=twin,
        )
    return None


@tenant_scoped(via="statement")
@transaction.atomic
def dispute_open(
    *,
    statement: Statement,
    actor,
    amount: Decimal,
    reason: str,
    line: StatementLine | None = None,
    evidence_url: str = "",
    submission_key: uuid.UUID | None = None,
) -> Dispute:
    """A budget owner disputes a line of a draft statement (or the whole statement).

    The amount must fit in what is still disputable on the line and on the statement (see
    ``selectors.line_room`` and ``selectors.statement_room``), checked with the period, the statement and
    the line locked (in that order, as every dispute write does), so two requests cannot both take the
    same room. A form submitted twice (same ``submission_key``), or the same person opening the same
    dispute again while it is open, raises ``DuplicateSubmission`` naming the dispute that exists."""
    organization = statement.organization
    billing_period = _locked_period(organization, statement.billing_period_id)
    statement = _locked_statement(organization, statement.pk)
    if (
        statement.is_final
        or billing_period.state != BillingPeriod.State.IN_REVIEW
        or statement.version != billing_period.version
    ):
        raise ValidationError(
            f"Statement {statement.reference} is not in review: disputes are opened while the period is in "
            "review, on its current statements."
        )
    if not dispute_window_open(statement):
        raise ValidationError(dispute_window_closed_message(statement=statement))
    if line is not None:
        line = _locked_line(organization, line.pk)
        if line is None or line.statement_id != statement.pk:
            raise ValidationError({"line": "That line is not on this statement."})
    amount_nano = _amount_nano(amount, field="amount", currency=statement.currency)
    reason = _text(reason, field="reason", message="Say why the charge is wrong.")
    duplicate = _already_opened(
        organization=organization,
        actor=actor,
        statement=statement,
        line=line,
        amount_nano=amount_nano,
        reason=reason,
        submission_key=submission_key,
    )
    if duplicate is not None:
        raise duplicate
    rooms = [(selectors.statement_room(statement=statement), "the statement")]
    if line is not None:
        rooms.insert(0, (selectors.line_room(line=line), _what(line)))
    for room, what in rooms:
        refusal = _room_refusal(room, amount_nano, what=what, currency=statement.currency)
        if refusal is not None:
            raise ValidationError({"amount": refusal})
    dispute = Dispute.objects.create(
        organization=organization,
        statement=statement,
        line=line,
        billing_period=billing_period,
        owner=statement.owner,
        currency=statement.currency,
        amount_nano=amount_nano,
        reason=reason,
        evidence_url=(evidence_url or "").strip(),
        opened_by=actor,
        submission_key=submission_key,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="dispute.opened",
        target=dispute,
        after={**_snapshot(dispute), "reason": dispute.reason, "evidence_url": dispute.evidence_url},
    )
    dispute_event_emit(dispute=dispute, type=EventType.DISPUTE_OPENED, actor_label=actor_label_for(actor))
    transaction.on_commit(lambda: notifications.dispute_opened_notify(dispute_id=dispute.pk))
    return dispute


@tenant_scoped(via="dispute")
@transaction.atomic
def dispute_comment_add(*, dispute: Dispute, actor, body: str) -> DisputeComment:
    organization = dispute.organization
    dispute = Dispute.objects.select_for_update().get(organization=organization, pk=dispute.pk)
    if not dispute.is_open:
        raise ValidationError(f"Dispute #{dispute.pk} is {dispute.get_status_display().lower()}: its thread is closed.")
    comment = DisputeComment.objects.create(
        organization=organization,
        dispute=dispute,
        author=actor,
        author_label=actor_label_for(actor),
        body=_text(body, field="body", message="Write a comment first."),
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="dispute.commented",
        target=dispute,
        after={"comment": comment.pk, "body": comment.body},
    )
    return comment


def _refuse_tokens(actor) -> None:
    """Resolving a dispute is a human action: no API token takes it, whatever its role."""
    if isinstance(actor, ApiPrincipal):
        raise PermissionDenied(HUMAN_ONLY_MESSAGE)


def _open_for_resolution(dispute: Dispute) -> tuple[BillingPeriod, Dispute]:
    """The period, the dispute's statement, its line and the dispute itself, locked in the order
    ``dispute_open`` locks them."""
    organization = dispute.organization
    stored = Dispute.objects.filter(organization=organization, pk=dispute.pk).values("statement_id", "line_id").get()
    billing_period = _locked_period(organization, dispute.billing_period_id)
    _locked_statement(organization, stored["statement_id"])
    if stored["line_id"] is not None:
        _locked_line(organization, stored["line_id"])
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("statement", "line", "owner")
        .get(organization=organization, pk=dispute.pk)
    )
    if not dispute.is_open:
        raise ValidationError(f"Dispute #{dispute.pk} is already {dispute.get_status_display().lower()}.")
    return billing_period, dispute


def _check_credit_fits(dispute: Dispute, adjusted_nano: int) -> None:
    """Credits never exceed the charge: with the other accepted disputes' credits, this one fits in the
    line's amount and in the statement's charges (whatever open disputes were let in before this check
    existed)."""
    rooms = [(selectors.statement_room(statement=dispute.statement, credited_only=True, exclude_id=dispute.pk), None)]
    if dispute.line_id:
        rooms.insert(
            0, (selectors.line_room(line=dispute.line, credited_only=True, exclude_id=dispute.pk), dispute.line)
        )
    for room, line in rooms:
        refusal = _credit_refusal(room, adjusted_nano, what=_what(line), currency=dispute.currency)
        if refusal is not None:
            raise ValidationError({"amount": refusal})


@tenant_scoped(via="dispute")
@transaction.atomic
def dispute_accept(*, dispute: Dispute, actor, amount: Decimal, recharge_owner: BudgetOwner, note: str = "") -> Dispute:
    """Accept (part of) a dispute: the owner is credited ``amount`` and ``recharge_owner`` charged it, as an
    adjustment pair of the period. While the period is in review both owners' draft statements are rebuilt
    now; otherwise the pair appears on the period's next statement version."""
    _refuse_tokens(actor)
    organization = dispute.organization
    billing_period, dispute = _open_for_resolution(dispute)
    adjusted_nano = _amount_nano(amount, field="amount", currency=dispute.currency)
    if adjusted_nano > dispute.amount_nano:
        raise ValidationError(
            {
                "amount": f"Accept at most the disputed {_money(dispute.amount_nano, dispute.currency)}; "
                "reject the dispute or accept a part of it."
            }
        )
    _check_credit_fits(dispute, adjusted_nano)
    if recharge_owner is None or recharge_owner.organization_id != organization.pk:
        raise ValidationError({"recharge_owner": "Choose the cost centre that pays instead."})
    if recharge_owner.pk == dispute.owner_id:
        raise ValidationError(
            {"recharge_owner": f"{recharge_owner.code} is the disputing cost centre: choose another one."}
        )
    if not recharge_owner.is_active:
        raise ValidationError({"recharge_owner": f"{recharge_owner.code} is inactive: choose an active one."})
    note = (note or "").strip()
    now = timezone.now()
    dispute.status = Dispute.Status.ACCEPTED
    dispute.adjusted_nano = adjusted_nano
    dispute.recharge_owner = recharge_owner
    dispute.resolution_note = note
    dispute.resolved_by = actor
    dispute.resolved_at = now
    dispute.save()
    amount_text = _money(adjusted_nano, dispute.currency)
    what = f"line {dispute.line.position} of " if dispute.line_id else ""
    adjustment_pair_create(
        organization=organization,
        dispute_id=dispute.pk,
        billing_period=billing_period,
        credit_owner=dispute.owner,
        charge_owner=recharge_owner,
        amount_nano=adjusted_nano,
        credit_description=f"Credit of {amount_text}: dispute #{dispute.pk} on {what}{dispute.statement.reference} "
        f"was accepted; {recharge_owner.code} {recharge_owner.name} is charged instead.",
        charge_description=f"Re-charge of {amount_text} from {dispute.owner.code} {dispute.owner.name}: "
        f"dispute #{dispute.pk} on {what}{dispute.statement.reference} was accepted.",
    )
    rebuilt = statements_rebuild(
        billing_period=billing_period, owner_ids=[dispute.owner_id, recharge_owner.pk], actor=actor
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="dispute.accepted",
        target=dispute,
        before={"status": Dispute.Status.OPEN},
        after={
            **_snapshot(dispute),
            "adjusted_nano": adjusted_nano,
            "recharge_owner": recharge_owner.code,
            "note": note,
            "statements_rebuilt": [statement.reference for statement in rebuilt],
        },
    )
    dispute_event_emit(dispute=dispute, type=EventType.DISPUTE_RESOLVED, actor_label=actor_label_for(actor))
    transaction.on_commit(lambda: notifications.dispute_resolved_notify(dispute_id=dispute.pk))
    return dispute


@tenant_scoped(via="dispute")
@transaction.atomic
def dispute_reject(*, dispute: Dispute, actor, reason: str) -> Dispute:
    _refuse_tokens(actor)
    organization = dispute.organization
    _billing_period, dispute = _open_for_resolution(dispute)
    dispute.resolution_note = _text(reason, field="reason", message="Say why the dispute is rejected.")
    dispute.status = Dispute.Status.REJECTED
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="dispute.rejected",
        target=dispute,
        before={"status": Dispute.Status.OPEN},
        after={**_snapshot(dispute), "reason": dispute.resolution_note},
        reason=dispute.resolution_note,
    )
    dispute_event_emit(dispute=dispute, type=EventType.DISPUTE_RESOLVED, actor_label=actor_label_for(actor))
    transaction.on_commit(lambda: notifications.dispute_resolved_notify(dispute_id=dispute.pk))
    return dispute
