"""Reads over disputes: what a member may see (finance: all; a budget owner: disputes on the statements of
their subtree), the queue with its filters, and the owners a dispute may be re-charged to."""

from datetime import date

from django.db.models import Count, QuerySet

from apps.owners.models import BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.tenancy.models import Membership

from .models import Dispute, DisputeComment


def disputes_visible(*, membership: Membership) -> QuerySet[Dispute]:
    queryset = Dispute.objects.filter(organization_id=membership.organization_id)
    visible = visible_owner_ids(membership=membership)
    return queryset if visible is None else queryset.filter(owner_id__in=visible)


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


def dispute_status_counts(*, membership: Membership) -> dict[str, int]:
    rows = disputes_visible(membership=membership).values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in Dispute.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def dispute_comments(*, dispute: Dispute) -> QuerySet[DisputeComment]:
    return DisputeComment.objects.filter(dispute=dispute).order_by("created_at", "id")


def recharge_candidates(*, dispute: Dispute) -> QuerySet[BudgetOwner]:
    """Active cost centres other than the disputing one, central ones first (the usual home of a charge
    nobody else should carry)."""
    return (
        BudgetOwner.objects.filter(organization_id=dispute.organization_id, is_active=True)
        .exclude(pk=dispute.owner_id)
        .order_by("-is_central", "code")
    )
