"""Writes to cost centres and budgets. Each runs in one transaction with exactly one audit event.

Cost centres are never deleted (statements and allocation lines point at them): they are
deactivated, and only once nothing active hangs below them.
"""

import functools
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record, audited_update, set_active
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped

from .models import Budget, BudgetOwner, BudgetThreshold
from .selectors import owner_subtree_ids
from .snapshots import budget_owner_snapshot, budget_threshold_snapshot
from .validation import (
    BUDGET_DECIMAL_PLACES,
    ERP_FIELDS,
    amount_error,
    base_currency_error,
    code_error,
    period_error,
    text_field_errors,
    threshold_pct_error,
)

User = get_user_model()

# What a budget-owner update may change; is_active goes through deactivate/reactivate rules too.
OWNER_FIELDS = ("code", "name", "parent", "owner_users", *ERP_FIELDS, "is_central", "is_active")


def _budget_snapshot(budget: Budget) -> dict:
    return {
        "owner": budget.owner.code,
        "period": f"{budget.period:%Y-%m}",
        "amount": str(budget.amount),
        "currency": budget.currency,
    }


@tenant_scoped
def owner_user_errors(*, organization: Organization, users: Iterable) -> list[str]:
    users = list(users)
    roles = dict(Membership.objects.filter(organization=organization, user__in=users).values_list("user_id", "role"))
    problems = []
    for user in users:
        role = roles.get(user.pk)
        if role is None:
            problems.append(f"{user.username} is not a member of {organization.name}.")
        elif role != Role.BUDGET_OWNER:
            problems.append(
                f"{user.username} is not a budget owner here: "
                "give them the Budget owner role on the Members page first."
            )
    return problems


def _raise_if(errors: dict[str, Any]) -> None:
    if errors:
        raise ValidationError(errors)


def _validate_owner(
    *,
    organization: Organization,
    owner: BudgetOwner | None,
    code: str,
    name: str,
    parent: BudgetOwner | None,
    owner_users: list,
    erp: dict[str, str],
    is_active: bool,
) -> None:
    errors: dict[str, Any] = {}
    problem = code_error(code)
    if problem:
        errors["code"] = problem
    else:
        clash = BudgetOwner.objects.filter(organization=organization, code__iexact=code)
        if owner is not None:
            clash = clash.exclude(pk=owner.pk)
        existing = clash.first()
        if existing is not None:
            errors["code"] = f"{existing.code} ({existing.name}) already uses this code."
    errors.update(text_field_errors({"name": name, **erp}))
    if parent is not None:
        if parent.organization_id != organization.pk:
            errors["parent"] = "The parent cost centre must belong to this organisation."
        elif owner is not None and parent.pk == owner.pk:
            errors["parent"] = "A cost centre cannot be its own parent."
        elif owner is not None and parent.pk in owner_subtree_ids(organization=organization, root_ids=[owner.pk]):
            errors["parent"] = f"{parent.code} sits below {owner.code}: moving {owner.code} under it would make a loop."
        elif is_active and not parent.is_active:
            errors["parent"] = f"{parent.code} is inactive: reactivate it first or pick an active parent."
    if not is_active and owner is not None:
        active_children = list(owner.children.filter(is_active=True).order_by("code").values_list("code", flat=True))
        if active_children:
            errors["is_active"] = (
                f"{owner.code} still has active cost centres below it ({', '.join(active_children)}): "
                "deactivate or move them first."
            )
    problems = owner_user_errors(organization=organization, users=owner_users)
    if problems:
        errors["owner_users"] = problems
    _raise_if(errors)


# --- cost centres -----------------------------------------------------------------------------------


@tenant_scoped
@transaction.atomic
def budget_owner_create(
    *,
    organization: Organization,
    actor,
    code: str,
    name: str,
    parent: BudgetOwner | None = None,
    owner_users: Iterable = (),
    gl_account: str = "",
    department: str = "",
    company_code: str = "",
    erp_class: str = "",
    location: str = "",
    is_central: bool = False,
    is_active: bool = True,
) -> BudgetOwner:
    code, name = code.strip(), name.strip()
    erp = {
        "gl_account": gl_account.strip(),
        "department": department.strip(),
        "company_code": company_code.strip(),
        "erp_class": erp_class.strip(),
        "location": location.strip(),
    }
    owner_users = list(owner_users)
    _validate_owner(
        organization=organization,
        owner=None,
        code=code,
        name=name,
        parent=parent,
        owner_users=owner_users,
        erp=erp,
        is_active=is_active,
    )
    owner = BudgetOwner.objects.create(
        organization=organization,
        code=code,
        name=name,
        parent=parent,
        is_central=is_central,
        is_active=is_active,
        **erp,
    )
    owner.owner_users.set(owner_users)
    audit_record(
        organization=organization,
        actor=actor,
        action="budget_owner.created",
        target=owner,
        after=budget_owner_snapshot(owner),
    )
    return owner


def _lock(owner: BudgetOwner) -> BudgetOwner:
    return (
        BudgetOwner.objects.select_for_update(of=("self",))
        .select_related("parent")
        .get(organization_id=owner.organization_id, pk=owner.pk)
    )


@tenant_scoped(via="owner")
@transaction.atomic
def budget_owner_update(
    *, owner: BudgetOwner, actor, data: dict[str, Any], action: str = "budget_owner.updated", reason: str = ""
) -> BudgetOwner:
    """Change any of ``OWNER_FIELDS``; fields not in ``data`` keep their value. Writes no event when
    nothing changes."""
    unknown = set(data) - set(OWNER_FIELDS)
    if unknown:
        raise ValueError(f"budget_owner_update cannot change {sorted(unknown)}")

    def change(stored: BudgetOwner) -> None:
        values = {
            "code": data.get("code", stored.code).strip(),
            "name": data.get("name", stored.name).strip(),
            "parent": data.get("parent", stored.parent),
            "is_central": data.get("is_central", stored.is_central),
            "is_active": data.get("is_active", stored.is_active),
        }
        erp = {field: data.get(field, getattr(stored, field)).strip() for field in ERP_FIELDS}
        owner_users = list(data["owner_users"]) if "owner_users" in data else list(stored.owner_users.all())
        _validate_owner(
            organization=stored.organization,
            owner=stored,
            code=values["code"],
            name=values["name"],
            parent=values["parent"],
            owner_users=owner_users,
            erp=erp,
            is_active=values["is_active"],
        )
        for field, value in {**values, **erp}.items():
            setattr(stored, field, value)
        stored.owner_users.set(owner_users)

    return audited_update(
        instance=owner,
        stored=_lock(owner),
        snapshot=budget_owner_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="owner")
@transaction.atomic
def budget_owner_set_active(*, owner: BudgetOwner, active: bool, actor, reason: str = "") -> BudgetOwner:
    """Deactivate (only once nothing active hangs below it) or reactivate a cost centre."""
    return set_active(
        instance=owner,
        active=active,
        update=functools.partial(budget_owner_update, owner=owner),
        label=owner.code,
        event="budget_owner",
        actor=actor,
        reason=reason,
    )


# --- budgets ----------------------------------------------------------------------------------------


@tenant_scoped
@transaction.atomic
def budget_set(
    *, organization: Organization, actor, owner: BudgetOwner, period: date, amount: Decimal, currency: str
) -> tuple[Budget, bool]:
    """Create or replace the owner's budget for one month. Returns (budget, created)."""
    currency = (currency or "").strip().upper()
    errors: dict[str, str] = {}
    if owner.organization_id != organization.pk:
        errors["owner"] = "The cost centre must belong to this organisation."
    for field, problem in (
        ("period", period_error(period)),
        ("amount", amount_error(amount)),
        ("currency", base_currency_error(currency, base_currency=organization.base_currency)),
    ):
        if problem:
            errors[field] = problem
    _raise_if(errors)
    amount = Decimal(str(amount)).quantize(Decimal(1).scaleb(-BUDGET_DECIMAL_PLACES))
    budget = (
        Budget.objects.select_for_update()
        .select_related("owner")
        .filter(organization=organization, owner=owner, period=period)
        .first()
    )
    if budget is None:
        budget = Budget.objects.create(
            organization=organization, owner=owner, period=period, amount=amount, currency=currency
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="budget.created",
            target=budget,
            after=_budget_snapshot(budget),
        )
        return budget, True
    before = _budget_snapshot(budget)
    budget.amount, budget.currency = amount, currency
    after = _budget_snapshot(budget)
    if after != before:
        budget.save(update_fields=["amount", "currency", "updated_at"])
        audit_record(
            organization=organization,
            actor=actor,
            action="budget.updated",
            target=budget,
            before=before,
            after=after,
        )
    return budget, False


@tenant_scoped(via="budget")
@transaction.atomic
def budget_delete(*, budget: Budget, actor) -> None:
    before = _budget_snapshot(budget)
    organization, budget_id = budget.organization, budget.pk
    budget.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="budget.deleted",
        object_type="owners.budget",
        object_id=str(budget_id),
        before=before,
    )


# --- budget thresholds ------------------------------------------------------------------------------

THRESHOLD_FIELDS = ("pct", "basis", "is_active")


def _pct(pct) -> Decimal:
    return Decimal(str(pct)).quantize(Decimal("0.01"))


def _threshold_errors(
    *, organization: Organization, owner: BudgetOwner, pct, basis: str, threshold: BudgetThreshold | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if owner.organization_id != organization.pk:
        errors["owner"] = "The cost centre must belong to this organisation."
    problem = threshold_pct_error(pct)
    if problem:
        errors["pct"] = problem
    if basis not in BudgetThreshold.Basis.values:
        errors["basis"] = "Choose actual spend or the forecast to month end."
    if not errors:
        clash = BudgetThreshold.objects.filter(organization=organization, owner=owner, pct=_pct(pct), basis=basis)
        if threshold is not None:
            clash = clash.exclude(pk=threshold.pk)
        if clash.exists():
            label = BudgetThreshold.Basis(basis).label.lower()
            errors["pct"] = f"{owner.code} already has a threshold at {_pct(pct)}% on {label}."
    return errors


@tenant_scoped
@transaction.atomic
def budget_threshold_create(
    *, organization: Organization, actor, owner: BudgetOwner, pct, basis: str = BudgetThreshold.Basis.ACTUAL
) -> BudgetThreshold:
    """A threshold on the cost centre's monthly budgets (every month it has one), e.g. 80% of actual spend."""
    if owner.organization_id == organization.pk:
        # Two requests adding the same threshold run one after the other: the second meets the first's row in
        # the check below (a message) instead of the unique constraint (an error page).
        _lock(owner)
    _raise_if(_threshold_errors(organization=organization, owner=owner, pct=pct, basis=basis, threshold=None))
    threshold = BudgetThreshold.objects.create(organization=organization, owner=owner, pct=_pct(pct), basis=basis)
    audit_record(
        organization=organization,
        actor=actor,
        action="budget_threshold.created",
        target=threshold,
        after=budget_threshold_snapshot(threshold),
    )
    return threshold


@tenant_scoped(via="threshold")
@transaction.atomic
def budget_threshold_update(
    *,
    threshold: BudgetThreshold,
    actor,
    data: dict[str, Any],
    action: str = "budget_threshold.updated",
    reason: str = "",
) -> BudgetThreshold:
    """Change the percentage, the basis or whether it is active. An alert it already raised stays (it names
    the threshold by id): a changed threshold is evaluated afresh only for months it has not fired in."""
    unknown = set(data) - set(THRESHOLD_FIELDS)
    if unknown:
        raise ValueError(f"budget_threshold_update cannot change {sorted(unknown)}")
    _lock(threshold.owner)
    stored = (
        BudgetThreshold.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(organization_id=threshold.organization_id, pk=threshold.pk)
    )

    def change(row: BudgetThreshold) -> None:
        pct = data.get("pct", row.pct)
        basis = data.get("basis", row.basis)
        _raise_if(
            _threshold_errors(organization=row.organization, owner=row.owner, pct=pct, basis=basis, threshold=row)
        )
        row.pct, row.basis = _pct(pct), basis
        row.is_active = data.get("is_active", row.is_active)

    return audited_update(
        instance=threshold,
        stored=stored,
        snapshot=budget_threshold_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="threshold")
@transaction.atomic
def budget_threshold_set_active(
    *, threshold: BudgetThreshold, active: bool, actor, reason: str = ""
) -> BudgetThreshold:
    """Deactivate (it is no longer evaluated; its alerts stay) or reactivate a threshold."""
    return set_active(
        instance=threshold,
        active=active,
        update=functools.partial(budget_threshold_update, threshold=threshold),
        label=f"The {threshold.pct}% threshold",
        event="budget_threshold",
        actor=actor,
        reason=reason,
    )
