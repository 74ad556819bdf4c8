import pytest
from django.core.cache import cache

from tests.world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and axes' state live in the cache; tests must not leak them into each other.
    cache.clear()
    yield
    cache.clear()
