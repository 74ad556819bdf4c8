"""Cross-tenant cases for the owners app."""

import datetime
from decimal import Decimal

from django_scopes import scope

from apps.owners.models import Budget, BudgetOwner, BudgetOwnerUser, BudgetThreshold
from apps.tenancy.roles import Role

from . import api_route, portal_route, tenant_model


def make_budget_owner(world, organization, code: str = "CC-X") -> BudgetOwner:
    with scope(organization=organization):
        owner, _ = BudgetOwner.objects.get_or_create(organization=organization, code=code, defaults={"name": code})
    return owner


def make_budget(world, organization) -> Budget:
    owner = make_budget_owner(world, organization)
    with scope(organization=organization):
        budget, _ = Budget.objects.get_or_create(
            organization=organization,
            owner=owner,
            period=datetime.date(2026, 10, 1),
            defaults={"amount": Decimal("1000.00"), "currency": "USD"},
        )
    return budget


def make_budget_owner_user(world, organization) -> BudgetOwnerUser:
    owner = make_budget_owner(world, organization)
    key = next(key for key, org in world.orgs.items() if org.pk == organization.pk)
    user = world.user(key, Role.BUDGET_OWNER)
    with scope(organization=organization):
        owner.owner_users.add(user)
        return BudgetOwnerUser.objects.get(organization=organization, budgetowner=owner, user=user)


tenant_model("owners.budgetowner", make_budget_owner)
tenant_model("owners.budget", make_budget)
tenant_model("owners.budgetowneruser", make_budget_owner_user)


def make_budget_threshold(world, organization) -> BudgetThreshold:
    owner = make_budget_owner(world, organization)
    with scope(organization=organization):
        threshold, _ = BudgetThreshold.objects.get_or_create(
            organization=organization, owner=owner, pct=Decimal("80.00"), basis=BudgetThreshold.Basis.ACTUAL
        )
    return threshold


tenant_model("owners.budgetthreshold", make_budget_threshold)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _owner(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_budget_owner(world, organization).pk}


def _budget(world, organization) -> dict:
    budget = make_budget(world, organization)
    return {"org_slug": organization.slug, "pk": budget.owner_id, "budget_pk": budget.pk}


def _threshold(world, organization) -> dict:
    threshold = make_budget_threshold(world, organization)
    return {"org_slug": organization.slug, "pk": threshold.owner_id, "threshold_pk": threshold.pk}


portal_route("owners:list", _org)
portal_route("owners:create", _org)
portal_route("owners:detail", _owner)
portal_route("owners:edit", _owner)
portal_route("owners:deactivate", _owner, method="post")
portal_route("owners:reactivate", _owner, method="post")
portal_route("owners:budget_create", _owner)
portal_route("owners:budget_edit", _budget)
portal_route("owners:budget_delete", _budget, method="post")
portal_route("owners:threshold_create", _owner)
portal_route("owners:threshold_edit", _threshold)
portal_route("owners:threshold_deactivate", _threshold, method="post")
portal_route("owners:threshold_reactivate", _threshold, method="post")

api_route("api:budget-owner-list", row_id=lambda w, o: make_budget_owner(w, o).pk)
api_route("api:budget-owner-detail", lambda w, o: {"pk": make_budget_owner(w, o).pk})
api_route("api:budget-list", row_id=lambda w, o: make_budget(w, o).pk)
api_route("api:budget-detail", lambda w, o: {"pk": make_budget(w, o).pk})
