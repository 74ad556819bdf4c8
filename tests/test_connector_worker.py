"""A pull through a real Celery worker process (PostgreSQL + a broker; CI runs it): the worker pulls from the
loopback provider (pages, a 429 it really waits out), and the ingest jobs the pull queues run on the same
worker, so the usage and the invoice land as the eager tests say."""

import os
import time
import uuid
from datetime import date

import pytest
from django.conf import settings
from django_scopes import scope

from apps.connectors.models import ConnectorPull, PullStatus
from apps.connectors.services import connection_create
from apps.connectors.tasks import pull_connection
from apps.invoices.models import InvoiceIngestJob, ProviderInvoice
from apps.usage.models import DailyUsage, IngestJob
from tests.connectors.fake_providers import FakeProvider
from tests.connectors.test_pull import COSTS, OPENAI_KEY, serve_openai
from tests.factories import OrganizationFactory
from tests.test_celery_worker import _database_url_for_worker, _skip
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_pulls_and_runs_the_imports_it_queued(price_book):
    if not os.environ.get("CELERY_BROKER_URL"):
        _skip("no CELERY_BROKER_URL configured: the embedded runtime runs tasks eagerly (CI sets one)")
    database_url = _database_url_for_worker()
    fake = FakeProvider().start()
    serve_openai(fake, dec6_input=1_000_000, dec6_cost="2.50")
    fake.throttle[(COSTS, 1)] = "1"  # the worker really waits one second
    organization = OrganizationFactory(slug="pull-worker")
    with scope(organization=organization):
        connection = connection_create(
            organization=organization, actor=None, provider="openai", label="OpenAI", api_key=OPENAI_KEY
        )
    # A queue of its own, also for the tasks the worker sends (the ingest jobs the pull queues).
    queue = f"pull-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "INGEST_PAYLOAD_DIR": settings.INGEST_PAYLOAD_DIR,
        "CONNECTOR_OPENAI_BASE_URL": fake.base_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    worker = start_worker(env=env, queue=queue)
    try:
        outcome = pull_connection.apply_async(args=[connection.pk, "manual"], queue=queue).get(timeout=120)
        assert (outcome["status"], outcome["requests"], outcome["pages"], outcome["rate_limited"]) == (
            "succeeded", 6, 5, 1,
        ), outcome  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with scope(organization=organization):
                pull = ConnectorPull.objects.select_related("usage_job", "invoice_job").get(pk=outcome["pull"])
            if pull.usage_job.is_finished and pull.invoice_job.is_finished:
                break
            time.sleep(0.2)
    finally:
        stop_worker(worker)
        fake.stop()
    assert pull.status == PullStatus.SUCCEEDED
    assert (pull.usage_job.status, pull.invoice_job.status) == (
        IngestJob.Status.SUCCEEDED,
        InvoiceIngestJob.Status.SUCCEEDED,
    )
    with scope(organization=organization):
        cells = sorted(DailyUsage.objects.values_list("day", "input_tokens", "estimated_nano"))
        invoice = ProviderInvoice.objects.get(provider="openai")
    assert cells == [(date(2026, 12, 5), 1_000_000, 4_500_000_000), (date(2026, 12, 6), 1_000_000, 4_500_000_000)]
    assert invoice.total_nano == 5_000_000_000
