"""Reads over disputes: what a member may see (finance: all; a budget owner: disputes on the statements of
their subtree), the queue with its filters, the owners a dispute may be re-charged to, and how much of a
line or a statement is still disputable.

Each read takes the member (a budget owner sees their subtree), or the dispute, line or statement it is
about, and runs in that organisation's scope (``apps.tenancy.scoping.tenant_scoped``)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, QuerySet

from apps.core.money import decimal_to_nano
from apps.owners.models import BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.statements.models import Adjustment, Section, Statement, StatementLine
from apps.tenancy.models import Membership
from apps.tenancy.scoping import tenant_scoped

from .models import Dispute, DisputeComment


@tenant_scoped(via="membership")
def disputes_visible(*, membership: Membership) -> QuerySet[Dispute]:
    queryset = Dispute.objects.filter(organization_id=membership.organization_id)
    visible = visible_owner_ids(membership=membership)
    return queryset if visible is None else queryset.filter(owner_id__in=visible)


@tenant_scoped(via="membership")
def statement_disputes_context(*, membership: Membership, statement) -> dict:
    """The disputes of one statement that the member sees, for the statement's page (registered in
    ``apps.statements.hooks`` by ``DisputesConfig.ready()``)."""
    return {
        "disputes": disputes_visible(membership=membership)
        .filter(statement=statement)
        .select_related("line")
        .order_by("-opened_at")
    }


@tenant_scoped(via="membership")
def open_disputes_for_owner_panel(*, membership: Membership) -> list[Dispute]:
    """The open disputes a member sees, for the budget owner's panel on the portal home."""
    return list(disputes_visible(membership=membership).filter(status="open").select_related("statement", "owner")[:20])


@tenant_scoped(via="membership")
def dispute_queue(
    *, membership: Membership, status: str = "", period: date | None = None, owner_code: str = ""
) -> QuerySet[Dispute]:
    queryset = disputes_visible(membership=membership)
    if status:
        queryset = queryset.filter(status=status)
    if period is not None:
        queryset = queryset.filter(statement__period=period)
    if owner_code:
        queryset = queryset.filter(owner__code__iexact=owner_code.strip())
    return (
        queryset.select_related("statement", "line", "owner", "opened_by", "resolved_by", "recharge_owner")
        .annotate(comment_count=Count("comments"))
        .order_by("-opened_at", "-id")
    )


@tenant_scoped(via="membership")
def dispute_status_counts(*, membership: Membership) -> dict[str, int]:
    rows = disputes_visible(membership=membership).values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in Dispute.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@tenant_scoped(via="dispute")
def dispute_comments(*, dispute: Dispute) -> QuerySet[DisputeComment]:
    return DisputeComment.objects.filter(dispute=dispute).order_by("created_at", "id")


@tenant_scoped(via="dispute")
def recharge_candidates(*, dispute: Dispute) -> QuerySet[BudgetOwner]:
    """Active cost centres other than the disputing one, central ones first (the usual home of a charge
    nobody else should carry)."""
    return (
        BudgetOwner.objects.filter(organization_id=dispute.organization_id, is_active=True)
        .exclude(pk=dispute.owner_id)
        .order_by("-is_central", "code")
    )


# --- how much is still disputable ------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    """What was charged on a line or a statement (footed, as the owner reads it) and how much of it is
    already claimed: open disputes at their amount, accepted ones at the amount credited (the rest of a
    partly accepted dispute is free again), rejected ones not at all."""

    charged_nano: int
    claimed_nano: int

    @property
    def left_nano(self) -> int:
        return max(0, self.charged_nano - self.claimed_nano)


def _claimed_nano(disputes: QuerySet[Dispute], *, credited_only: bool = False, exclude_id: int | None = None) -> int:
    statuses = [Dispute.Status.ACCEPTED] if credited_only else [Dispute.Status.OPEN, Dispute.Status.ACCEPTED]
    disputes = disputes.filter(status__in=statuses)
    if exclude_id is not None:
        disputes = disputes.exclude(pk=exclude_id)
    return sum(
        adjusted if status == Dispute.Status.ACCEPTED else amount
        for status, amount, adjusted in disputes.values_list("status", "amount_nano", "adjusted_nano")
    )


@tenant_scoped(via="line")
def line_room(*, line: StatementLine, credited_only: bool = False, exclude_id: int | None = None) -> Room:
    """The line's amount against the disputes on it (``credited_only``: only the credits of accepted ones,
    ``exclude_id``: leaving one dispute out, the one being accepted)."""
    disputes = Dispute.objects.filter(organization_id=line.organization_id, line_id=line.pk)
    return Room(
        charged_nano=decimal_to_nano(line.amount),
        claimed_nano=_claimed_nano(disputes, credited_only=credited_only, exclude_id=exclude_id),
    )


@tenant_scoped(via="statement")
def statement_room(*, statement: Statement, credited_only: bool = False, exclude_id: int | None = None) -> Room:
    """The statement's charges against every dispute of its owner in the period, on any line, on the whole
    statement, and on earlier versions (whose accepted credits a later version carries again).

    Charged is the sum of the statement's lines other than the credits of accepted disputes: those credits
    are already claimed, so counting them on both sides would shrink the room twice. Re-charges of other
    owners' disputes are charges like any other."""
    amounts = (
        StatementLine.objects.filter(organization_id=statement.organization_id, statement_id=statement.pk)
        .exclude(section=Section.ADJUSTMENT, method=Adjustment.Kind.CREDIT)
        .values_list("amount", flat=True)
    )
    disputes = Dispute.objects.filter(
        organization_id=statement.organization_id,
        billing_period_id=statement.billing_period_id,
        owner_id=statement.owner_id,
    )
    return Room(
        charged_nano=decimal_to_nano(sum(amounts, Decimal(0))),
        claimed_nano=_claimed_nano(disputes, credited_only=credited_only, exclude_id=exclude_id),
    )


@tenant_scoped(via="statement")
def disputable_nano(*, statement: Statement, line: StatementLine | None = None) -> int:
    """How much the owner may still dispute on the line (within what is left on the statement), or on the
    whole statement."""
    left = statement_room(statement=statement).left_nano
    return left if line is None else min(left, line_room(line=line).left_nano)
