import pytest

from tests import scenarios


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October (``scenarios.SHARED``) issued in org "a" by the finance analyst."""
    return scenarios.issued(world.org("a"), world.user("a", "finance_analyst"))
