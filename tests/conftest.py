import hashlib
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.world import World, build_world

# On the PostgreSQL test run, every statement must route by organisation (issue 22): tests/routing/plugin.py.
pytest_plugins = ["tests.routing.plugin"]

# Properties are about values, not speed: the test machines are shared, so wall-clock health checks
# (deadline, too_slow) would only make the suite flaky under load. Example counts stay as each test sets.
hypothesis_settings.register_profile("project", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("project")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix):
    """With ``--reuse-db`` (``make test-fast``) the test database outlives the run. PostgreSQL keeps it by
    itself; SQLite's test database lives in memory, so with ``--reuse-db`` it goes to a file in the temporary
    directory instead, one per checkout. Without the option (``make test``, CI) nothing changes: a fresh
    database every run."""
    database = settings.DATABASES["default"]
    if not request.config.getvalue("reuse_db") or database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    if not test.get("NAME"):
        checkout = hashlib.sha256(str(settings.BASE_DIR).encode()).hexdigest()[:12]
        test["NAME"] = str(Path(tempfile.gettempdir()) / f"chargeback-test-{checkout}.sqlite3")


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tasks run in-process in every test but the real-worker ones (marked ``celery_worker``): the web flow's
    heavy work is queued on Celery (issue 18), and a test of that flow must not wait for a worker that CI's
    broker has but the test did not start. A real-worker test keeps the settings' mode (a broker, not eager)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    if request.node.get_closest_marker("celery_worker") is None:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    yield
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=previous)


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
