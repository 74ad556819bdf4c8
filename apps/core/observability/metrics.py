"""Prometheus metrics (prometheus-client): request latency, Celery task counts, durations and failures, the
queue's depth and ingest throughput, served at ``/metrics`` to a scraper holding ``METRICS_TOKEN`` (or, where
``METRICS_ALLOW_LOOPBACK`` allows it, from this machine).

Web processes and Celery workers are separate processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (one folder
every process of the host shares, emptied when they start) every process writes its figures there and
``/metrics`` adds them up (prometheus-client's multiprocess mode); without it ``/metrics`` shows the figures
of the process that answers, which is all of them in the embedded runtime (tasks run in the web process).
"""

import hmac
import logging
import os
import time

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "chargeback_http_request_duration_seconds",
    "Time from the request entering Django to its response, by URL pattern.",
    ["method", "route", "status"],
)
TASKS = Counter(
    "chargeback_celery_tasks_total",
    "Celery tasks that ended, by task name and state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
TASK_FAILURES = Counter(
    "chargeback_celery_task_failures_total",
    "Celery tasks that raised, by task name and exception.",
    ["task", "exception"],
)
TASK_DURATION = Histogram(
    "chargeback_celery_task_duration_seconds",
    "Run time of a Celery task, by task name.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf")),
)
INGEST_ROWS = Counter("chargeback_ingest_rows_total", "Rows read by ingest jobs that succeeded, by kind.", ["kind"])
INGEST_SECONDS = Counter(
    "chargeback_ingest_seconds_total", "Run time of the ingest jobs that succeeded, by kind (rows / seconds).", ["kind"]
)
INGEST_ROWS_PER_SECOND = Histogram(
    "chargeback_ingest_rows_per_second",
    "Throughput of each ingest job that succeeded (its rows over the time from its start to its end), by kind.",
    ["kind"],
    buckets=(10, 100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, float("inf")),
)


def observe_ingest(*, kind: str, rows: int, seconds: float) -> None:
    """Count one finished ingest job (called by the ingest life cycle once the job's end is committed)."""
    INGEST_ROWS.labels(kind).inc(rows)
    INGEST_SECONDS.labels(kind).inc(max(seconds, 0.0))
    if seconds > 0:
        INGEST_ROWS_PER_SECOND.labels(kind).observe(rows / seconds)


# --- requests ----------------------------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """First in MIDDLEWARE: times every request. The route label is the URL pattern (``o/<slug:org_slug>/...``),
    never the path, so an organisation's slug or a row's id does not become a label of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "<unmatched>"
        REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - start)
        return response


# --- Celery ------------------------------------------------------------------------------------------------

_started: dict[str, float] = {}


def _task_prerun(task_id=None, task=None, **kwargs):
    _started[task_id] = time.perf_counter()


def _task_postrun(task_id=None, task=None, state=None, **kwargs):
    start = _started.pop(task_id, None)
    name = getattr(task, "name", "?")
    # Celery sends no state when the exception left the tracer (eager mode that propagates): a failure.
    TASKS.labels(name, state or "FAILURE").inc()
    if start is not None:
        TASK_DURATION.labels(name).observe(time.perf_counter() - start)


def _task_failure(sender=None, exception=None, **kwargs):
    TASK_FAILURES.labels(getattr(sender, "name", "?"), type(exception).__name__).inc()


def _worker_process_shutdown(pid=None, **kwargs):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def connect_celery_signals() -> None:
    """Called from ``CoreConfig.ready()``: the signals fire in whichever process runs the task (a worker, or
    the web process in the embedded runtime)."""
    from celery import signals

    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="metrics_task_prerun")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="metrics_task_postrun")
    signals.task_failure.connect(_task_failure, weak=False, dispatch_uid="metrics_task_failure")
    signals.worker_process_shutdown.connect(
        _worker_process_shutdown, weak=False, dispatch_uid="metrics_worker_process_shutdown"
    )


class QueueDepthCollector:
    """The number of messages waiting in the default queue, read at scrape time (LLEN of the queue's list when
    the broker is Redis; other brokers report nothing rather than a made-up zero)."""

    def collect(self):
        url = settings.CELERY_BROKER_URL
        if not url.startswith(("redis://", "rediss://")):
            return
        import redis

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        family = GaugeMetricFamily(
            "chargeback_celery_queue_depth", "Messages waiting in the Celery queue (Redis LLEN).", labels=["queue"]
        )
        try:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                family.add_metric([queue], client.llen(queue))
            finally:
                client.close()
        except redis.RedisError:
            logger.warning("Reading the depth of the Celery queue %s failed", queue, exc_info=True)
            return
        yield family


_scrape_time = CollectorRegistry(auto_describe=False)
_scrape_time.register(QueueDepthCollector())


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_scrape_time)


LOOPBACK = {"127.0.0.1", "::1"}


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode("utf-8"), f"Bearer {token}".encode())
    return settings.METRICS_ALLOW_LOOPBACK and request.META.get("REMOTE_ADDR") in LOOPBACK


def metrics_view(request):
    """``GET /metrics``: the Prometheus text format. 403 without the token (or off this machine)."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    if not _allowed(request):
        return HttpResponse("Forbidden: send the metrics token.\n", status=403, content_type="text/plain")
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
