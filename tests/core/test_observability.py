"""The operators' endpoints: /health/ (django-health-check) and /metrics (prometheus-client)."""

import pytest
from celery import current_app
from django.test import Client
from prometheus_client import REGISTRY

from apps.audit.tasks import verify_audit_chain_task
from apps.usage.services.ingest import ingest_job_run
from tests.ingest.test_payload_retention import _own_payload_dir, _usage_job  # noqa: F401  (fixture: own folder)

pytestmark = pytest.mark.django_db


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_health_checks_database_cache_broker_and_worker_as_json(eager_celery):
    response = Client().get("/health/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # The embedded runtime: tasks run eagerly in the web process, so no worker is asked for (a real one is asked
    # in tests/test_observability_worker.py).
    assert response.json() == {
        "Database(alias='default')": "OK",
        "Cache(alias='default')": "OK",
        "Broker": "OK",
        "Worker": "OK",
    }


@pytest.fixture
def unreachable_broker(monkeypatch):
    # A port nothing listens on (1, tcpmux): the connection is refused at once. Celery reads the broker URL from
    # the environment before its settings (where CI sets one), and its settings are under the CELERY_ namespace.
    url = "redis://127.0.0.1:1/0"
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    previous = current_app.conf.get("CELERY_BROKER_URL")
    current_app.conf.update(CELERY_BROKER_URL=url)
    yield
    current_app.conf.update(CELERY_BROKER_URL=previous)


def test_health_fails_with_the_reason_when_the_broker_is_unreachable(unreachable_broker):
    response = Client().get("/health/")
    assert response.status_code == 500
    assert response.json()["Broker"] == "Unavailable: Broker unreachable: OperationalError"
    assert response.json()["Database(alias='default')"] == "OK"


def test_metrics_answer_loopback_and_the_token_only(settings):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 403
    settings.METRICS_ALLOW_LOOPBACK = False  # production's default
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403
    settings.METRICS_TOKEN = "scrape-secret"
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 403
    assert Client(headers={"Authorization": "Bearer wrong"}).get("/metrics").status_code == 403
    response = Client(REMOTE_ADDR="10.0.0.5", headers={"Authorization": "Bearer scrape-secret"}).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "chargeback_http_request_duration_seconds_bucket" in response.content.decode()


def test_request_latency_is_counted_by_url_pattern_not_by_path(world):
    labels = {"method": "GET", "route": "o/<slug:org_slug>/history/", "status": "200"}
    before = _sample("chargeback_http_request_duration_seconds_count", **labels)
    client = world.login("a")
    client.get("/o/alpha/history/")
    assert _sample("chargeback_http_request_duration_seconds_count", **labels) == before + 1
    before_unmatched = _sample(
        "chargeback_http_request_duration_seconds_count", method="GET", route="<unmatched>", status="404"
    )
    Client().get("/no-such-page/")
    assert (
        _sample("chargeback_http_request_duration_seconds_count", method="GET", route="<unmatched>", status="404")
        == before_unmatched + 1
    )
    text = Client().get("/metrics").content.decode()
    assert 'route="o/<slug:org_slug>/history/"' in text and "/o/alpha/" not in text


def test_celery_tasks_are_counted_timed_and_failures_named(world, eager_celery):
    name = "audit.verify_chain"
    ok_before = _sample("chargeback_celery_tasks_total", task=name, state="SUCCESS")
    timed_before = _sample("chargeback_celery_task_duration_seconds_count", task=name)
    failed_before = _sample("chargeback_celery_task_failures_total", task=name, exception="DoesNotExist")
    assert verify_audit_chain_task.delay(world.org("a").pk).get()["ok"] is True
    assert _sample("chargeback_celery_tasks_total", task=name, state="SUCCESS") == ok_before + 1
    assert _sample("chargeback_celery_task_duration_seconds_count", task=name) == timed_before + 1
    failures_before = _sample("chargeback_celery_tasks_total", task=name, state="FAILURE")
    with pytest.raises(Exception, match="does not exist"):
        verify_audit_chain_task.delay(987654321).get()
    assert _sample("chargeback_celery_tasks_total", task=name, state="FAILURE") == failures_before + 1
    # As a worker runs it (the exception is kept on the result, not raised): the failure names its exception.
    result = verify_audit_chain_task.apply(args=[987654322], throw=False)
    assert result.state == "FAILURE"
    assert _sample("chargeback_celery_tasks_total", task=name, state="FAILURE") == failures_before + 2
    assert _sample("chargeback_celery_task_failures_total", task=name, exception="DoesNotExist") == failed_before + 1


def test_ingest_rows_per_second_come_from_each_finished_job(world, price_book, django_capture_on_commit_callbacks):
    rows_before = _sample("chargeback_ingest_rows_total", kind="usage")
    jobs_before = _sample("chargeback_ingest_rows_per_second_count", kind="usage")
    seconds_before = _sample("chargeback_ingest_seconds_total", kind="usage")
    job = _usage_job(world.org("a"), "metrics.ndjson")
    with django_capture_on_commit_callbacks(execute=True):
        finished = ingest_job_run(job_id=job.pk)
    assert (finished.status, finished.rows_total) == ("succeeded", 1)
    assert _sample("chargeback_ingest_rows_total", kind="usage") == rows_before + 1
    assert _sample("chargeback_ingest_rows_per_second_count", kind="usage") == jobs_before + 1
    elapsed = (finished.finished_at - (finished.started_at or finished.created_at)).total_seconds()
    assert _sample("chargeback_ingest_seconds_total", kind="usage") == pytest.approx(seconds_before + elapsed)
