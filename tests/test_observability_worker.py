"""/health/'s worker check and /metrics' queue depth against a real Redis and a real worker process.

Redis database 8 of the broker's server, so that the queue these tests fill and empty is nobody else's."""

import asyncio
import os
import re
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.test import Client

from apps.core.observability.health import Worker
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "celery"  # the default queue: the one the worker check asks for


def _skip(reason: str) -> None:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def broker_url(monkeypatch):
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        _skip("no Redis CELERY_BROKER_URL configured (CI sets one)")
    own = re.sub(r"/\d*$", "", url.rstrip("/")) + "/8"
    # A Celery app takes its broker from CELERY_BROKER_URL in the environment before its own ``broker``
    # argument: the probe must see this database, not the suite's.
    monkeypatch.setenv("CELERY_BROKER_URL", own)
    client = redis.Redis.from_url(own)
    client.delete(QUEUE)
    yield own
    client.delete(QUEUE)
    client.close()


def _probe(url: str) -> Celery:
    # Not the current app: tasks bound with @shared_task must keep finding the project's.
    return Celery("probe", broker=url, set_as_current=False)


def _worker_error(app: Celery) -> str | None:
    result = asyncio.run(Worker(app=app).get_result())
    return str(result.error) if result.error else None


def test_queue_depth_is_the_redis_list_length(broker_url, settings):
    probe = _probe(broker_url)
    for _ in range(3):
        probe.send_task("audit.verify_chain", args=[0], queue=QUEUE)
    settings.CELERY_BROKER_URL = broker_url
    text = Client().get("/metrics").content.decode()
    assert 'chargeback_celery_queue_depth{queue="celery"} 3.0' in text


def test_the_worker_check_fails_without_a_worker_and_passes_with_one(broker_url):
    probe = _probe(broker_url)
    assert _worker_error(probe) == "Unavailable: Celery workers unavailable"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_BROKER_URL": broker_url}
    worker = start_worker(env=env, queue=QUEUE)
    try:
        deadline = time.monotonic() + 60
        error = "not asked yet"
        while error is not None and time.monotonic() < deadline:
            error = _worker_error(probe)
        assert error is None
    finally:
        stop_worker(worker)
