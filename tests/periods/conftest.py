import pytest

from tests.scenarios import chargeback, reconciled


@pytest.fixture
def ready(world):
    """Org "a" in chargeback with October reconciled within tolerance (``scenarios.step`` allocates it on
    submit)."""
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    return world
