"""Cross-tenant cases for the owners app."""

import datetime
from decimal import Decimal

from django_scopes import scope

from apps.owners.models import Budget, BudgetOwner

from . import tenant_model


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


tenant_model("owners.budgetowner", make_budget_owner)
tenant_model("owners.budget", make_budget)
