"""Reads of cost centres and budgets.

``visible_owner_ids`` is the one place that decides which cost centres a member may see: finance
and viewers see all, a budget owner sees the cost centres they own and everything below them.
Every app that shows spend, statements or disputes by cost centre filters through it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Perm, Role
from apps.tenancy.scoping import tenant_scoped

from .models import Budget, BudgetOwner

User = get_user_model()


def _children_by_parent(*, organization: Organization) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for owner_id, parent_id in BudgetOwner.objects.filter(organization=organization).values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(owner_id)
    return children


@tenant_scoped
def owner_subtree_ids(*, organization: Organization, root_ids: Iterable[int]) -> set[int]:
    """The roots and all their descendants. The hierarchy is small (tens to hundreds of rows), so
    the (id, parent_id) pairs are loaded once and walked in Python instead of a recursive query."""
    children = _children_by_parent(organization=organization)
    known = {owner_id for ids in children.values() for owner_id in ids}
    seen: set[int] = set()
    stack = [root for root in root_ids if root in known]
    while stack:
        owner_id = stack.pop()
        if owner_id in seen:
            continue
        seen.add(owner_id)
        stack.extend(children.get(owner_id, ()))
    return seen


@tenant_scoped(via="membership")
def visible_owner_ids(*, membership: Membership) -> set[int] | None:
    """None means every cost centre of the organisation; otherwise the ids the member may see."""
    if membership.has_perm(Perm.VIEW_ALL_COST):
        return None
    if membership.role != Role.BUDGET_OWNER:
        return set()
    roots = BudgetOwner.objects.filter(organization_id=membership.organization_id, owner_users=membership.user_id)
    return owner_subtree_ids(organization=membership.organization, root_ids=list(roots.values_list("id", flat=True)))


@tenant_scoped
def owners_visible(*, organization: Organization, visible_ids: set[int] | None) -> QuerySet[BudgetOwner]:
    queryset = BudgetOwner.objects.filter(organization=organization)
    return queryset if visible_ids is None else queryset.filter(id__in=visible_ids)


@dataclass(frozen=True)
class OwnerTreeRow:
    owner: BudgetOwner
    depth: int

    # The page indents by CSS class (the Content-Security-Policy allows no inline styles): 0 … MAX_INDENT.
    MAX_INDENT = 12

    @property
    def indent(self) -> int:
        return min(self.depth, self.MAX_INDENT)


@tenant_scoped
def owner_tree(*, organization: Organization, visible_ids: set[int] | None) -> list[OwnerTreeRow]:
    """Visible cost centres in tree order (siblings by code). A visible cost centre whose parent is
    hidden from the member is shown as a root, so a budget owner's tree starts at their own."""
    owners = list(owners_visible(organization=organization, visible_ids=visible_ids).select_related("parent"))
    by_id = {owner.pk: owner for owner in owners}
    children: dict[int | None, list[BudgetOwner]] = {}
    for owner in owners:
        parent_key = owner.parent_id if owner.parent_id in by_id else None
        children.setdefault(parent_key, []).append(owner)
    rows: list[OwnerTreeRow] = []
    stack = [(owner, 0) for owner in sorted(children.get(None, []), key=lambda o: o.code, reverse=True)]
    while stack:
        owner, depth = stack.pop()
        rows.append(OwnerTreeRow(owner=owner, depth=depth))
        kids = sorted(children.get(owner.pk, []), key=lambda o: o.code, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    return rows


@tenant_scoped(via="owner")
def owner_ancestors(*, owner: BudgetOwner) -> list[BudgetOwner]:
    """From the root down to the owner's parent."""
    parents = dict(BudgetOwner.objects.filter(organization_id=owner.organization_id).values_list("id", "parent_id"))
    chain: list[int] = []
    current = owner.parent_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    by_id = BudgetOwner.objects.in_bulk(chain)
    return [by_id[pk] for pk in reversed(chain)]


@tenant_scoped(via="owner")
def budgets_for_owner(*, owner: BudgetOwner) -> QuerySet[Budget]:
    return Budget.objects.filter(organization_id=owner.organization_id, owner=owner).order_by("-period")


@tenant_scoped
def budget_owner_candidates(*, organization: Organization) -> QuerySet:
    """Users who may be named as owners of a cost centre: members with the budget-owner role."""
    user_ids = Membership.objects.filter(organization=organization, role=Role.BUDGET_OWNER).values("user_id")
    return User.objects.filter(pk__in=user_ids).order_by("username")
