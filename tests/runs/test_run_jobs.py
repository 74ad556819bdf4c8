"""Reconciliation and allocation runs as jobs (eager: the job runs in the request, as without a broker), and
the portal's answer when a broker takes it (the request returns at once, to the job's page)."""

import pytest
from django.db.models import Sum
from django.test import Client
from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun
from apps.audit.models import AuditEvent
from apps.jobs.models import Job
from apps.jobs.services import job_run
from apps.periods.models import BillingPeriod
from apps.reconciliation.models import ReconciliationRun
from apps.tenancy.roles import Role, TokenScope
from tests.factories.accounts import ApiClientFactory
from tests.factories.periods import set_state
from tests.reconciliation.conftest import build_october

from .helpers import G, ready_to_allocate, usage_total_nano

pytestmark = pytest.mark.django_db

RECONCILE = "/api/v1/periods/2026-10/reconciliation/"
ALLOCATE = "/api/v1/periods/2026-10/allocation/"


def token(world, key="a", role=Role.FINANCE_ANALYST, scopes=(TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE)):
    organization = world.org(key)
    with scope(organization=organization):
        api_client = ApiClientFactory(organization=organization, scopes=list(scopes), role=role)
    return Client(headers={"Authorization": f"Bearer {api_client.raw_token}"}), api_client


def jobs_of(organization):
    with scope(organization=organization):
        return list(Job.objects.order_by("pk"))


def test_the_api_reconciles_a_month_as_a_job_and_answers_202_with_where_to_poll(world):
    organization = world.org("a")
    build_october(organization)
    api, api_client = token(world)
    answer = api.post(RECONCILE)
    assert answer.status_code == 202
    body = answer.json()
    [job] = jobs_of(organization)
    assert answer["Location"] == body["url"] == f"/api/v1/jobs/{job.pk}/"
    assert (body["kind"], body["status"], body["title"]) == (
        "reconciliation.run",
        "succeeded",
        "Reconciliation of 2026-10",
    )
    with scope(organization=organization):
        [run] = ReconciliationRun.objects.all()
    # The hand-built October: 95.00 + 94.99 + 3.00 estimated, 100 + 100 + 7 invoiced (tests/reconciliation).
    assert (run.estimated_nano, run.invoiced_nano) == (192_990_000_000, 207 * G)
    assert body["result"]["run"] == run.pk
    assert body["result"]["url"] == "/o/alpha/reconciliation/?period=2026-10"
    assert run.created_by is None and run.created_by_label == api_client.audit_label
    assert job.params == {"period": "2026-10-01", "api_client": api_client.pk}
    polled = api.get(body["url"]).json()
    assert (polled["status"], polled["result"]["run"]) == ("succeeded", run.pk)


def test_the_api_allocates_a_month_as_a_job_with_the_run_in_its_result(world):
    organization = world.org("a")
    ready_to_allocate(organization)
    api, _ = token(world)
    answer = api.post(ALLOCATE)
    assert answer.status_code == 202
    body = answer.json()
    with scope(organization=organization):
        [run] = AllocationRun.objects.all()
        lines = AllocationLine.objects.filter(run=run)
        owners = dict(lines.values_list("owner_code").annotate(n=Sum("amount_nano")).order_by())
        line_total = lines.aggregate(n=Sum("amount_nano"))["n"]
    # TEAMS: search 10 + 5, ads 4, untagged 1: the pool is the cube's total, every nano on a line.
    assert run.pool_total_nano == usage_total_nano(organization) == 20 * G == line_total
    assert owners == {"CC-1101": 15 * G, "CC-1201": 4 * G, "": 1 * G}
    assert body["result"]["run"] == run.pk and body["result"]["lines"] == run.line_count == lines.count()
    assert body["result"]["message"] == "Allocated 2026-10 with Allocation rules v1: 5 lines, Unallocated 1.00 USD."
    assert api.get("/api/v1/periods/2026-10/allocation/").json()["run_id"] == run.pk


def test_allocating_a_frozen_period_is_refused_at_once_without_a_job(world):
    organization = world.org("a")
    ready_to_allocate(organization)
    api, _ = token(world)
    assert api.post(ALLOCATE).status_code == 202
    with scope(organization=organization):
        set_state(BillingPeriod.objects.get(period="2026-10-01"), BillingPeriod.State.IN_REVIEW)
    answer = api.post(ALLOCATE)
    assert answer.status_code == 400
    assert "2026-10 is in review: its allocation is frozen" in str(answer.json())
    assert len(jobs_of(organization)) == 1


@pytest.mark.parametrize("url", [RECONCILE, ALLOCATE])
def test_a_token_that_may_not_prepare_or_write_is_refused(world, url):
    ready_to_allocate(world.org("a"))
    viewer, _ = token(world, role=Role.VIEWER)
    assert viewer.post(url).status_code == 403
    reader, _ = token(world, scopes=(TokenScope.PERIODS_READ,))
    assert reader.post(url).status_code == 403
    assert jobs_of(world.org("a")) == []


def test_a_redelivered_job_returns_the_run_its_first_attempt_wrote(world):
    """The worker died after the run's commit but before the job was marked done: the task comes again."""
    organization = world.org("a")
    build_october(organization)
    api, _ = token(world)
    job_id = api.post(RECONCILE).json()["id"]
    with scope(organization=organization):
        Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, finished_at=None)
    job = job_run(organization_id=organization.pk, job_id=job_id)
    with scope(organization=organization):
        [run] = ReconciliationRun.objects.all()
        created = AuditEvent.objects.filter(action="reconciliation_run.created").count()
    assert (job.status, job.attempts, job.result["run"]) == (Job.Status.SUCCEEDED, 2, run.pk)
    assert created == 1


def test_a_redelivered_allocation_job_keeps_its_run(world):
    organization = world.org("a")
    ready_to_allocate(organization)
    api, _ = token(world)
    job_id = api.post(ALLOCATE).json()["id"]
    with scope(organization=organization):
        Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, finished_at=None)
    job = job_run(organization_id=organization.pk, job_id=job_id)
    with scope(organization=organization):
        [run] = AllocationRun.objects.all()
        created = AuditEvent.objects.filter(action="allocation_run.created").count()
    assert (job.status, job.result["run"], created) == (Job.Status.SUCCEEDED, run.pk, 1)


def test_a_failed_run_says_why_and_a_retry_after_the_fix_makes_it(world):
    organization = world.org("a")
    ready_to_allocate(organization)
    api, _ = token(world)
    job_id = api.post(ALLOCATE).json()["id"]
    with scope(organization=organization):
        # A frozen period after the job was accepted: the worker's check under the lock refuses it.
        set_state(BillingPeriod.objects.get(period="2026-10-01"), BillingPeriod.State.IN_REVIEW)
        AllocationRun.objects.all().delete()
        Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, finished_at=None, result={})
    job = job_run(organization_id=organization.pk, job_id=job_id)
    assert job.status == Job.Status.FAILED
    assert job.error_message.startswith("2026-10 is in review: its allocation is frozen")
    with scope(organization=organization):
        set_state(BillingPeriod.objects.get(period="2026-10-01"), BillingPeriod.State.RECONCILING)
    retried = api.post(f"/api/v1/jobs/{job_id}/retry/")
    assert retried.status_code == 202 and retried.json()["status"] == "succeeded"
    with scope(organization=organization):
        assert AllocationRun.objects.get().pk == retried.json()["result"]["run"]


def test_with_a_broker_the_portal_returns_at_once_to_the_job_page(world, django_capture_on_commit_callbacks):
    from config.celery import app

    organization = world.org("a")
    ready_to_allocate(organization)
    client = world.login("a", "finance_analyst")
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    try:
        with django_capture_on_commit_callbacks(execute=False) as queued:
            allocate = client.post("/o/alpha/allocation/2026-10/allocate/")
            reconcile = client.post("/o/alpha/reconciliation/run/", {"period": "2026-10"})
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    allocation_job, reconciliation_job = jobs_of(organization)
    assert allocate["Location"] == f"/o/alpha/jobs/{allocation_job.pk}/"
    assert reconcile["Location"] == f"/o/alpha/jobs/{reconciliation_job.pk}/"
    assert (allocation_job.status, reconciliation_job.status) == (Job.Status.QUEUED, Job.Status.QUEUED)
    assert len(queued) == 2  # each queued on the worker once its request commits
    with scope(organization=organization):
        assert not AllocationRun.objects.exists() and not ReconciliationRun.objects.exists()
    page = client.get(allocate["Location"])
    assert page.status_code == 200 and b"Allocation of 2026-10" in page.content


def test_asking_twice_while_a_run_is_queued_is_one_job(world, django_capture_on_commit_callbacks):
    from config.celery import app

    organization = world.org("a")
    ready_to_allocate(organization)
    api, _ = token(world)
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    try:
        with django_capture_on_commit_callbacks(execute=False):
            first = api.post(ALLOCATE).json()
            second = api.post(ALLOCATE).json()
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    assert first["id"] == second["id"] and second["status"] == "queued"
    assert len(jobs_of(organization)) == 1


def test_one_organisations_run_jobs_are_not_anothers(world):
    ready_to_allocate(world.org("a"))
    ready_to_allocate(world.org("b"))
    api_a, _ = token(world, "a")
    api_b, _ = token(world, "b")
    job_a = api_a.post(ALLOCATE).json()["id"]
    assert api_b.get(f"/api/v1/jobs/{job_a}/").status_code == 404
    assert api_b.post(f"/api/v1/jobs/{job_a}/retry/").status_code == 404
    assert world.login("b", "finance_analyst").get(f"/o/beta/jobs/{job_a}/").status_code == 404
    with scope(organization=world.org("b")):
        assert not AllocationRun.objects.exists()
    assert [job.pk for job in jobs_of(world.org("a"))] == [job_a]
