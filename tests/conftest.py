import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from tests.world import World, build_world

# Properties are about values, not speed: the test machines are shared, so wall-clock health checks
# (deadline, too_slow) would only make the suite flaky under load. Example counts stay as each test sets.
settings.register_profile("project", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(scope="session")
def _payload_root(tmp_path_factory):
    return tmp_path_factory.mktemp("ingest-payloads")


@pytest.fixture(autouse=True)
def _payload_dir(settings, _payload_root):
    # Received files go to a temporary folder, never the repository's media/ (worker tests pass it on).
    settings.INGEST_PAYLOAD_DIR = str(_payload_root)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; tests must not leak them into each other.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def price_book(db) -> dict:
    """The shipped list prices (apps/pricing/data/price_book.yaml) loaded into the database."""
    from apps.pricing.services import price_book_load_default

    return price_book_load_default()


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when CI configures a broker (for tests of the web flow, not of workers)."""
    from config.celery import app

    # Settings come from Django under the CELERY_ namespace, so the namespaced key is the one to change.
    previous = app.conf.task_always_eager
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    yield
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=previous)
