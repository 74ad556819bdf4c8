"""A small cost-centre hierarchy in org "a" (and the same codes in org "b"), shaped like the demo:

CC-1000 ─┬─ CC-1100 ─┬─ CC-1101        alpha-budget_owner owns CC-1100
         │           └─ CC-1102
         └─ CC-1200 ─── CC-1201
CC-9000 (central)
"""

import pytest
from django_scopes import scope

from apps.tenancy.roles import Role
from tests.factories.owners import BudgetOwnerFactory

TREE = [
    ("CC-1000", None),
    ("CC-1100", "CC-1000"),
    ("CC-1101", "CC-1100"),
    ("CC-1102", "CC-1100"),
    ("CC-1200", "CC-1000"),
    ("CC-1201", "CC-1200"),
    ("CC-9000", None),
]


def build_tree(world, key: str) -> dict:
    organization = world.org(key)
    owners = {}
    with scope(organization=organization):
        for code, parent in TREE:
            owners[code] = BudgetOwnerFactory(
                organization=organization,
                code=code,
                parent=owners.get(parent),
                is_central=code == "CC-9000",
            )
        owners["CC-1100"].owner_users.set([world.user(key, Role.BUDGET_OWNER)])
    return owners


@pytest.fixture
def tree(world) -> dict:
    return build_tree(world, "a")


@pytest.fixture
def tree_b(world) -> dict:
    return build_tree(world, "b")
