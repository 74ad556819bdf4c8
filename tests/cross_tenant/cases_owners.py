"""Cross-tenant cases for the owners app."""

from django_scopes import scope

from apps.owners.models import BudgetOwner

from . import tenant_model


def make_budget_owner(world, organization, code: str = "CC-X") -> BudgetOwner:
    with scope(organization=organization):
        owner, _ = BudgetOwner.objects.get_or_create(organization=organization, code=code, defaults={"name": code})
    return owner


tenant_model("owners.budgetowner", make_budget_owner)
