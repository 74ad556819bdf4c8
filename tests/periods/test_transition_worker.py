"""A real Celery worker issues the statements of a period submitted for review through the API (202, the job
polled until it succeeded), and a redelivered job issues nothing twice. PostgreSQL + a broker only (CI runs
it; locally a Redis database of its own, e.g. CELERY_BROKER_URL=redis://127.0.0.1:6379/11)."""

import os
import time

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationLine
from apps.audit.models import AuditEvent
from apps.core.money import nano_to_decimal
from apps.jobs.models import Job
from apps.jobs.tasks import run_job
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.tenancy.roles import Role, TokenScope
from tests.factories import ApiClientFactory
from tests.scenarios import OCT, allocated, chargeback, reconciled, step
from tests.test_celery_worker import _database_url_for_worker, _skip
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

FINAL = ("succeeded", "failed", "interrupted")


@pytest.fixture
def default_queue_worker():
    """A worker on the default queue, where ``job_submit`` queues ``jobs.run_job`` (and the worker queues the
    e-mails the transition sends): the broker's database should be this test's own."""
    if not os.environ.get("CELERY_BROKER_URL"):
        _skip("no CELERY_BROKER_URL configured: the embedded runtime runs tasks eagerly (CI sets one)")
    database_url = _database_url_for_worker()
    from config.celery import app

    app.control.purge()  # nothing left over from an earlier run is delivered to this worker
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url}
    worker = start_worker(env=env)
    try:
        yield worker
    finally:
        stop_worker(worker)


def _poll(api: Client, url: str, *, seconds: int = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = api.get(url).json()
        if body["status"] in FINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_a_worker_issues_the_statements_and_a_redelivered_job_issues_nothing_twice(world, default_queue_worker):
    organization = world.org("a")
    chargeback(organization)
    reconciled(organization)
    month = allocated(organization)
    step(world, "start_reconciliation")
    with scope(organization=organization):
        client = ApiClientFactory(
            organization=organization,
            role=Role.FINANCE_ANALYST,
            scopes=[TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE],
        )
        lines = AllocationLine.objects.filter(run=month.run, owner__isnull=False)
        expected = {
            row["owner__code"]: nano_to_decimal(row["total"])
            for row in lines.values("owner__code").annotate(total=Sum("amount_nano"))
        }
    api = Client(headers={"Authorization": f"Bearer {client.raw_token}"})
    response = api.post(
        reverse("api:period-transitions", kwargs={"period": "2026-10"}),
        {"transition": "submit_for_review"},
        content_type="application/json",
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] in ("queued", "running", "succeeded")  # the worker may be quick
    assert response["Location"] == accepted["url"]
    done = _poll(api, accepted["url"])
    assert (done["status"], done["error_message"], done["attempts"]) == ("succeeded", "", 1)
    assert (done["result"]["state"], done["result"]["already_done"]) == ("in_review", False)

    def issued():
        with scope(organization=organization):
            return sorted(Statement.objects.values_list("owner_code", "version", "status", "total_amount"))

    statements = issued()
    assert {code: total for code, _v, _s, total in statements} == expected  # a direct sum of the lines
    assert {(version, status) for _c, version, status, _t in statements} == {(1, "draft")}
    with scope(organization=organization):
        assert BillingPeriod.objects.get(period=OCT).state == "in_review"
        job = Job.objects.get(pk=accepted["id"])
        # The worker died after the transition committed, before it marked the job done: redelivered.
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, finished_at=None)
    assert run_job.delay(organization.pk, job.pk).get(timeout=90) == {"job": job.pk, "status": "succeeded"}
    again = _poll(api, accepted["url"])
    assert (again["status"], again["attempts"], again["result"]["already_done"]) == ("succeeded", 2, True)
    assert issued() == statements
    with scope(organization=organization):
        assert AuditEvent.objects.filter(action="billing_period.submit_for_review").count() == 1
