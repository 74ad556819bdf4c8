"""Writes on disputes: open, comment, accept (into an adjustment pair), reject. Each runs in one
transaction with the period row locked first (the same order as a period transition, so an approval
cannot slip between a check and a write), writes its audit event, and e-mails after commit.

Who may do what is checked by the views (``Perm.OPEN_DISPUTES`` on a visible statement,
``Perm.RESOLVE_DISPUTES`` for the queue); these functions check what the data allows.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_scopes import scope

from apps.audit.services import actor_label_for, audit_record
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.pricing.money import currency_exponent, decimal_to_nano, nano_to_decimal, quantize_money
from apps.statements.models import Statement, StatementLine
from apps.statements.services import statements_rebuild

from . import notifications
from .models import Adjustment, Dispute, DisputeComment

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
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: f"{currency} amounts have at most {places} decimals."})
    return decimal_to_nano(value)


def _text(value: str, *, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: f"Keep it under {MAX_TEXT} characters."})
    return value


def _locked_period(billing_period_id: int) -> BillingPeriod:
    return BillingPeriod.objects.select_for_update().get(pk=billing_period_id)


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


def open_disputes_count(billing_period: BillingPeriod) -> int:
    with scope(organization=billing_period.organization_id):
        return Dispute.objects.filter(billing_period=billing_period, status=Dispute.Status.OPEN).count()


def guard_no_open_disputes(billing_period: BillingPeriod, actor=None) -> str | None:
    """Guard of ``approve``: every dispute of the period is resolved."""
    count = open_disputes_count(billing_period)
    if count == 0:
        return None
    if count == 1:
        return "1 dispute is still open: resolve it before approving."
    return f"{count} disputes are still open: resolve them before approving."


def open_disputes_fact(billing_periods: list[BillingPeriod]) -> dict[int, int]:
    """The periods board's "Open disputes" column: open disputes per period, in one query."""
    if not billing_periods:
        return {}
    counts = {bp.pk: 0 for bp in billing_periods}
    with scope(organization=billing_periods[0].organization_id):
        rows = (
            Dispute.objects.filter(billing_period__in=billing_periods, status=Dispute.Status.OPEN)
            .values("billing_period_id")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts[row["billing_period_id"]] = row["n"]
    return counts


# --- writes --------------------------------------------------------------------------------------


@transaction.atomic
def dispute_open(
    *,
    statement: Statement,
    actor,
    amount: Decimal,
    reason: str,
    line: StatementLine | None = None,
    evidence_url: str = "",
) -> Dispute:
    """A budget owner disputes a line of a draft statement (or the whole statement)."""
    organization = statement.organization
    with scope(organization=organization):
        billing_period = _locked_period(statement.billing_period_id)
        statement = Statement.objects.get(pk=statement.pk)
        if (
            statement.is_final
            or billing_period.state != BillingPeriod.State.IN_REVIEW
            or statement.version != billing_period.version
        ):
            raise ValidationError(
                f"Statement {statement.reference} is not in review: disputes are opened while the period is in "
                "review, on its current statements."
            )
        if line is not None and line.statement_id != statement.pk:
            raise ValidationError({"line": "That line is not on this statement."})
        amount_nano = _amount_nano(amount, field="amount", currency=statement.currency)
        ceiling = line.amount if line is not None else statement.total_amount
        what = f"line {line.position}" if line is not None else "the statement"
        if ceiling <= 0:
            raise ValidationError({"amount": f"Nothing is charged on {what}, so there is nothing to dispute."})
        if amount > ceiling:
            raise ValidationError(
                {
                    "amount": f"You can dispute at most {quantize_money(ceiling, statement.currency):,} "
                    f"{statement.currency}, the amount of {what}."
                }
            )
        dispute = Dispute.objects.create(
            organization=organization,
            statement=statement,
            line=line,
            billing_period=billing_period,
            owner=statement.owner,
            currency=statement.currency,
            amount_nano=amount_nano,
            reason=_text(reason, field="reason", message="Say why the charge is wrong."),
            evidence_url=(evidence_url or "").strip(),
            opened_by=actor,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="dispute.opened",
            target=dispute,
            after={**_snapshot(dispute), "reason": dispute.reason, "evidence_url": dispute.evidence_url},
        )
    transaction.on_commit(lambda: notifications.dispute_opened_notify(dispute_id=dispute.pk))
    return dispute


@transaction.atomic
def dispute_comment_add(*, dispute: Dispute, actor, body: str) -> DisputeComment:
    organization = dispute.organization
    with scope(organization=organization):
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if not dispute.is_open:
            raise ValidationError(
                f"Dispute #{dispute.pk} is {dispute.get_status_display().lower()}: its thread is closed."
            )
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


def _open_for_resolution(dispute: Dispute) -> tuple[BillingPeriod, Dispute]:
    billing_period = _locked_period(dispute.billing_period_id)
    dispute = (
        Dispute.objects.select_for_update(of=("self",)).select_related("statement", "line", "owner").get(pk=dispute.pk)
    )
    if not dispute.is_open:
        raise ValidationError(f"Dispute #{dispute.pk} is already {dispute.get_status_display().lower()}.")
    return billing_period, dispute


@transaction.atomic
def dispute_accept(*, dispute: Dispute, actor, amount: Decimal, recharge_owner: BudgetOwner, note: str = "") -> Dispute:
    """Accept (part of) a dispute: the owner is credited ``amount`` and ``recharge_owner`` charged it, as an
    adjustment pair of the period. While the period is in review both owners' draft statements are rebuilt
    now; otherwise the pair appears on the period's next statement version."""
    organization = dispute.organization
    with scope(organization=organization):
        billing_period, dispute = _open_for_resolution(dispute)
        adjusted_nano = _amount_nano(amount, field="amount", currency=dispute.currency)
        if adjusted_nano > dispute.amount_nano:
            raise ValidationError(
                {
                    "amount": f"Accept at most the disputed {_money(dispute.amount_nano, dispute.currency)}; "
                    "reject the dispute or accept a part of it."
                }
            )
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
        Adjustment.objects.create(
            organization=organization,
            dispute=dispute,
            billing_period=billing_period,
            owner=dispute.owner,
            kind=Adjustment.Kind.CREDIT,
            amount_nano=-adjusted_nano,
            description=f"Credit of {amount_text}: dispute #{dispute.pk} on {what}{dispute.statement.reference} "
            f"was accepted; {recharge_owner.code} {recharge_owner.name} is charged instead.",
        )
        Adjustment.objects.create(
            organization=organization,
            dispute=dispute,
            billing_period=billing_period,
            owner=recharge_owner,
            kind=Adjustment.Kind.CHARGE,
            amount_nano=adjusted_nano,
            description=f"Re-charge of {amount_text} from {dispute.owner.code} {dispute.owner.name}: "
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
    transaction.on_commit(lambda: notifications.dispute_resolved_notify(dispute_id=dispute.pk))
    return dispute


@transaction.atomic
def dispute_reject(*, dispute: Dispute, actor, reason: str) -> Dispute:
    organization = dispute.organization
    with scope(organization=organization):
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
    transaction.on_commit(lambda: notifications.dispute_resolved_notify(dispute_id=dispute.pk))
    return dispute
