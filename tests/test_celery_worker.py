"""A real Celery worker process against the configured broker (Redis in CI), end to end."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from apps.audit.services import audit_record
from apps.audit.tasks import verify_audit_chain_task
from tests.factories import OrganizationFactory
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


def _skip(reason: str) -> None:
    # CI sets REQUIRE_SERVICES=1: there a missing service is a failure, never a quiet skip.
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _database_url_for_worker() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        _skip("the worker process needs a database it can share with the test: set DATABASE_URL to PostgreSQL")
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    if not os.environ.get("CELERY_BROKER_URL"):
        _skip("no CELERY_BROKER_URL configured: the embedded runtime runs tasks eagerly (CI sets one)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_for_worker(),
    }
    worker = start_worker(env=env, queue=queue, output=subprocess.PIPE)
    try:
        yield queue
    finally:
        stop_worker(worker)


def test_a_worker_process_runs_a_task_against_the_database(worker_queue):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    organization = OrganizationFactory(slug="worker-org")
    for action in ("first.thing", "second.thing", "third.thing"):
        with transaction.atomic():
            audit_record(organization=organization, actor=None, action=action)
    result = verify_audit_chain_task.apply_async(args=[organization.pk], queue=worker_queue)
    assert result.get(timeout=90) == {
        "organization": "worker-org",
        "ok": True,
        "events_checked": 3,
        "anchored_seq": None,  # no anchor directory in the test settings
        "problem": "",
    }
