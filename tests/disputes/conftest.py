import pytest

from tests import scenarios


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October issued in org "a"; the budget-owner member owns CC-1101 (Search)."""
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )
