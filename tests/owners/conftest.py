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


@pytest.fixture(autouse=True)
def _configured_throttle_rates():
    # tests/accounts/test_api_clients.py::test_rate_limit_answers_429_with_retry_after restores the class-level
    # rates while its settings override is still active, leaving 3/min behind for later tests. Re-read them.
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
