"""Reconciliation and allocation runs through a real Celery worker process (the configured broker: Redis in
CI), on PostgreSQL: POST → 202 → the job polled to succeeded with the run's figures; progress seen while the
worker works; and a worker killed (SIGKILL) in the middle of writing an allocation leaves the earlier run whole
and nothing of the new one, the job interrupted by the sweeper, and a retry that makes the run.

Where the worker is, is decided by row locks this test holds on its own connections (the billing period the
write locks first, the organisation its audit event locks last), never by timing."""

import datetime
import os
import signal
import subprocess
import time

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client
from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun
from apps.allocation.runs.services import allocation_run_create
from apps.jobs.models import Job
from apps.jobs.services import jobs_interrupt_stale
from apps.periods.services import period_for_update
from apps.reconciliation.models import ReconciliationRun
from apps.tenancy.roles import Role, TokenScope
from tests.factories.accounts import ApiClientFactory
from tests.reconciliation.conftest import build_october
from tests.scenarios import OCT
from tests.test_celery_worker import ROOT, _database_url_for_worker, _skip
from tests.workers import stop_worker, worker_command
from tests.world import build_world

from .helpers import G, ready_to_allocate, usage_total_nano

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

DEADLINE_SECONDS = 120  # a bound on waiting for the worker, never an assertion on how long it took


@pytest.fixture
def workers():
    """Start worker processes on the default queue (the one job_submit queues on) on demand; all stopped after.
    The broker's database is this test's own (Redis DB 10 for this suite): its queue is purged at the start."""
    if not os.environ.get("CELERY_BROKER_URL"):
        _skip("no CELERY_BROKER_URL configured: the embedded runtime runs tasks eagerly (CI sets one)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url_for_worker()}
    started: list[subprocess.Popen] = []
    from config.celery import app

    app.control.purge()  # what an earlier run left queued (a worker's own --purge would race the first POST)

    def start() -> subprocess.Popen:
        command = [*worker_command(), "--without-heartbeat"]
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        stop_worker(worker)


def _wait(what: str, check):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 300) FROM pg_stat_activity "
            "WHERE datname = current_database()"
        )
        activity = cursor.fetchall()
    pytest.fail(f"gave up waiting for {what}: {activity}")


def _raw_connection() -> psycopg.Connection:
    """A connection of the test's own, outside Django's, to hold a row lock while the worker runs."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    )


def _backend_waiting_on(table: str) -> int | None:
    """The pid of a backend waiting for a row lock in a statement on ``table`` (the worker's), if any. (The
    statement's text may be cut short by track_activity_query_size: its FROM is matched, not its FOR UPDATE.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            [f'SELECT "{table}".%'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def _token(organization) -> Client:
    with scope(organization=organization):
        api_client = ApiClientFactory(
            organization=organization,
            scopes=[TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE],
            role=Role.FINANCE_ANALYST,
        )
    return Client(headers={"Authorization": f"Bearer {api_client.raw_token}"})


def _job(organization, pk: int) -> Job:
    with scope(organization=organization):
        return Job.objects.get(pk=pk)


def _finished(api: Client, job_url: str) -> dict:
    def poll():
        body = api.get(job_url).json()
        return body if body["status"] in ("succeeded", "failed", "interrupted") else None

    return _wait("the job to finish", poll)


def _runs_with_lines(organization) -> list[tuple[int, int, int, int]]:
    """(run, pool, line count, sum of the lines) for every allocation run of the organisation."""
    with scope(organization=organization):
        return [
            (
                run.pk,
                run.pool_total_nano,
                AllocationLine.objects.filter(run=run).count(),
                AllocationLine.objects.filter(run=run).aggregate(n=Sum("amount_nano"))["n"],
            )
            for run in AllocationRun.objects.order_by("pk")
        ]


def test_a_reconciliation_run_end_to_end_through_the_worker(workers):
    organization = build_world().org("a")
    build_october(organization)
    api = _token(organization)
    workers()
    answer = api.post("/api/v1/periods/2026-10/reconciliation/")
    assert answer.status_code == 202 and answer["Location"] == answer.json()["url"]
    body = _finished(api, answer["Location"])
    assert body["status"] == "succeeded", body["error_message"]
    with scope(organization=organization):
        [run] = ReconciliationRun.objects.all()
    assert body["result"]["run"] == run.pk
    # The hand-built October (tests/reconciliation/conftest.py): 95.00 + 94.99 + 3.00 against 100 + 100 + 7.
    assert (run.estimated_nano, run.invoiced_nano) == (192_990_000_000, 207 * G)
    assert (body["progress_done"], body["progress_total"], body["attempts"]) == (3, 3, 1)


def test_an_allocation_run_end_to_end_through_the_worker_with_its_progress_seen_while_it_works(workers):
    organization = build_world().org("a")
    ready_to_allocate(organization)
    with transaction.atomic():
        period_for_update(organization=organization, period=OCT)
    api = _token(organization)
    holder = _raw_connection()
    try:
        # Hold the billing period: the worker reads and computes, says so, then waits at its write.
        holder.execute(
            "SELECT 1 FROM periods_billingperiod WHERE organization_id = %s AND period = %s FOR UPDATE",
            [organization.pk, OCT],
        )
        workers()
        answer = api.post("/api/v1/periods/2026-10/allocation/")
        assert answer.status_code == 202
        _wait("the worker to reach its write", lambda: _backend_waiting_on("periods_billingperiod"))
        seen = api.get(answer["Location"]).json()
        assert (seen["status"], seen["progress_done"], seen["progress_total"]) == ("running", 2, 3)
        assert seen["progress_pct"] > 0 and seen["progress_message"] == "Writing the run (5 lines)"
    finally:
        holder.rollback()
        holder.close()
    body = _finished(api, answer["Location"])
    assert body["status"] == "succeeded", body["error_message"]
    [(run, pool, count, total)] = _runs_with_lines(organization)
    assert (body["result"]["run"], body["progress_pct"]) == (run, 100)
    assert pool == total == usage_total_nano(organization) == 20 * G and count == body["result"]["lines"] == 5


def test_a_worker_killed_mid_allocation_leaves_no_half_written_run_and_a_retry_makes_it(workers):
    organization = build_world().org("a")
    ready_to_allocate(organization)
    first = allocation_run_create(organization=organization, period=OCT, actor=None)
    before = _runs_with_lines(organization)
    assert before == [(first.pk, 20 * G, 5, 20 * G)]
    # New usage: allocating again replaces the draft (deletes it, writes the new run) in one transaction.
    from tests.allocation.test_runs import usage

    usage(organization, {"team": "ads"}, requests=1, cost_input_nano=2 * G)
    api = _token(organization)
    period_lock, audit_lock = _raw_connection(), _raw_connection()
    try:
        period_lock.execute(
            "SELECT 1 FROM periods_billingperiod WHERE organization_id = %s AND period = %s FOR UPDATE",
            [organization.pk, OCT],
        )
        worker = workers()
        answer = api.post("/api/v1/periods/2026-10/allocation/")
        assert answer.status_code == 202
        job_id = answer.json()["id"]
        _wait("the worker to reach its write", lambda: _backend_waiting_on("periods_billingperiod"))
        # Hold the organisation (its audit chain, written last), then let the write start: the worker deletes
        # the draft, writes the new run and its lines, and waits at its audit event, everything uncommitted.
        audit_lock.execute("SELECT 1 FROM tenancy_organization WHERE id = %s FOR UPDATE", [organization.pk])
        period_lock.commit()
        backend = _wait("the worker to wait at its audit event", lambda: _backend_waiting_on("tenancy_organization"))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        audit_lock.rollback()
        audit_lock.close()
        period_lock.rollback()
        period_lock.close()
    _wait("the killed worker's transaction to end", lambda: not _backend_alive(backend))

    assert _runs_with_lines(organization) == before  # the earlier draft whole, nothing of the new run
    job = _job(organization, job_id)
    assert (job.status, job.attempts, job.result) == (Job.Status.RUNNING, 1, {})

    [interrupted] = jobs_interrupt_stale(stale_after=datetime.timedelta(0))
    assert interrupted.pk == job_id and _job(organization, job_id).status == Job.Status.INTERRUPTED

    workers()
    retried = api.post(f"/api/v1/jobs/{job_id}/retry/")
    assert retried.status_code == 202
    body = _finished(api, retried["Location"])
    assert (body["status"], body["attempts"]) == ("succeeded", 2)
    [(run, pool, count, total)] = _runs_with_lines(organization)
    assert run == body["result"]["run"] != first.pk
    assert pool == total == usage_total_nano(organization) == 22 * G and count == body["result"]["lines"]
