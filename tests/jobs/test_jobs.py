"""The job record: submitted, run (inline under the embedded default), progress, failure with its reason, retry,
the redelivered task, the sweeper, the pages and the API."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.jobs import services
from apps.jobs.models import Job
from apps.tenancy.roles import Role, TokenScope
from tests.factories import ApiClientFactory

from . import kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _calls():
    kinds.CALLS.clear()
    yield
    kinds.CALLS.clear()


def submit(world, kind="tests.echo", key="a", params=None, dedupe_key=None) -> Job:
    organization = world.org(key)
    return services.job_submit(
        organization=organization,
        kind=kind,
        params=params or {},
        actor=world.user(key, Role.FINANCE_ANALYST),
        title=f"{kind} for {organization.slug}",
        dedupe_key=dedupe_key,
    )


def actions(organization, job) -> list[str]:
    with scope(organization=organization):
        return list(
            AuditEvent.objects.filter(organization=organization, object_id=str(job.pk), object_type="jobs.job")
            .order_by("seq")
            .values_list("action", flat=True)
        )


def test_a_submitted_job_runs_at_once_under_the_embedded_default_and_keeps_its_result(world):
    job = submit(world, params={"steps": 4})
    assert job.status == Job.Status.SUCCEEDED
    assert [(job.pk, 1)] == kinds.CALLS
    assert job.attempts == 1
    assert job.result == {"steps": 4, "url": "/o/alpha/jobs/"}
    assert job.result_url == "/o/alpha/jobs/"
    assert job.progress_pct == 100
    assert job.created_by == world.user("a", Role.FINANCE_ANALYST)
    assert job.started_at is not None and job.finished_at is not None
    assert actions(world.org("a"), job) == ["job.queued"]


def test_the_same_work_asked_twice_while_it_is_active_is_one_job(world):
    organization = world.org("a")
    with scope(organization=organization):
        active = Job.objects.create(
            organization=organization, kind="tests.echo", title="Echo", dedupe_key="echo:2026-10"
        )
    again = submit(world, dedupe_key="echo:2026-10")
    assert again.pk == active.pk
    assert again.status == Job.Status.QUEUED
    assert kinds.CALLS == []  # the active one is left to its worker
    # Another organisation's job with the same key is its own work.
    other = submit(world, key="b", dedupe_key="echo:2026-10")
    assert other.pk != active.pk and other.status == Job.Status.SUCCEEDED
    # Once the first is finished, the key is free again.
    with scope(organization=organization):
        Job.objects.filter(organization=organization, pk=active.pk).update(status=Job.Status.SUCCEEDED)
    fresh = submit(world, dedupe_key="echo:2026-10")
    assert fresh.pk not in (active.pk, other.pk)


def test_a_refusal_fails_the_job_with_its_reason_and_a_retry_runs_it_again(world):
    job = submit(world, kind="tests.flaky")
    assert job.status == Job.Status.FAILED
    assert job.error_message == "The October invoices are missing: upload them, then retry."
    assert job.can_retry
    retried = services.job_retry(job=job, actor=world.user("a", Role.FINANCE_ANALYST))
    assert retried.status == Job.Status.SUCCEEDED
    assert retried.attempts == 2
    assert retried.error_message == ""
    assert [(job.pk, 1), (job.pk, 2)] == kinds.CALLS
    assert actions(world.org("a"), job) == ["job.queued", "job.failed", "job.retried"]


def test_an_unexpected_error_fails_the_job_with_a_plain_reason(world):
    job = submit(world, kind="tests.crash")
    assert job.status == Job.Status.FAILED
    assert job.error_message == services.UNEXPECTED.format(name="ZeroDivisionError")


def test_only_a_failed_or_interrupted_job_can_be_retried(world):
    job = submit(world)
    with pytest.raises(Exception) as refused:
        services.job_retry(job=job, actor=world.user("a", Role.FINANCE_ANALYST))
    assert refused.value.messages == ["Only a failed or interrupted job can be retried; this one is succeeded."]


def test_a_redelivered_task_leaves_a_finished_job_alone(world):
    job = submit(world)
    again = services.job_run(organization_id=job.organization_id, job_id=job.pk)
    assert again.status == Job.Status.SUCCEEDED
    assert [(job.pk, 1)] == kinds.CALLS


def test_a_task_redelivered_after_its_worker_died_runs_the_job_again(world):
    organization = world.org("a")
    with scope(organization=organization):
        job = Job.objects.create(
            organization=organization, kind="tests.echo", title="Echo", status=Job.Status.RUNNING, attempts=1
        )
    done = services.job_run(organization_id=organization.pk, job_id=job.pk)
    assert done.status == Job.Status.SUCCEEDED
    assert done.attempts == 2
    assert [(job.pk, 2)] == kinds.CALLS


def test_the_sweeper_interrupts_running_jobs_whose_worker_went_silent(world):
    organization = world.org("a")
    now = timezone.now()
    with scope(organization=organization):
        silent = Job.objects.create(
            organization=organization,
            kind="tests.echo",
            title="Silent",
            status=Job.Status.RUNNING,
            attempts=1,
            heartbeat_at=now - timedelta(minutes=6),
        )
        beating = Job.objects.create(
            organization=organization,
            kind="tests.echo",
            title="Beating",
            status=Job.Status.RUNNING,
            attempts=1,
            heartbeat_at=now - timedelta(minutes=4),
        )
    marked = services.jobs_interrupt_stale(now=now)
    assert [job.pk for job in marked] == [silent.pk]
    with scopes_disabled():
        silent.refresh_from_db()
        beating.refresh_from_db()
    assert silent.status == Job.Status.INTERRUPTED
    assert silent.error_message.startswith("The worker running this job stopped reporting since ")
    assert beating.status == Job.Status.RUNNING
    assert actions(organization, silent) == ["job.interrupted"]
    retried = services.job_retry(job=silent, actor=world.user("a", Role.FINANCE_ANALYST))
    assert retried.status == Job.Status.SUCCEEDED and retried.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_where_the_page_can_see_it(world):
    organization = world.org("a")
    with scope(organization=organization):
        job = Job.objects.create(organization=organization, kind="tests.echo", title="Echo", status="running")
        progress = services._progress_for(job)
        progress(2, 8, "reading usage")
        seen = Job.objects.get(organization=organization, pk=job.pk)
    assert (seen.progress_done, seen.progress_total, seen.progress_message, seen.progress_pct) == (
        2,
        8,
        "reading usage",
        25,
    )
    assert seen.heartbeat_at is not None


def test_the_job_page_polls_while_active_and_sends_on_to_the_result(world):
    organization = world.org("a")
    with scope(organization=organization):
        queued = Job.objects.create(
            organization=organization,
            kind="tests.echo",
            title="Reconcile 2026-10",
            progress_done=1,
            progress_total=4,
            progress_message="matching invoices",
        )
    done = submit(world)
    client = world.login("a", Role.FINANCE_ANALYST)
    page = client.get(reverse("jobs:detail", kwargs={"org_slug": "alpha", "pk": queued.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "25% · matching invoices" in html
    partial = client.get(
        reverse("jobs:detail", kwargs={"org_slug": "alpha", "pk": done.pk}) + "?follow=1",
        headers={"HX-Request": "true"},
    )
    assert partial["HX-Redirect"] == "/o/alpha/jobs/"
    assert "hx-trigger" not in partial.content.decode()  # finished: the polling stops


def test_a_job_nobody_picked_up_says_a_worker_may_be_missing(world):
    organization = world.org("a")
    with scope(organization=organization):
        job = Job.objects.create(organization=organization, kind="tests.echo", title="Echo")
        Job.objects.filter(organization=organization, pk=job.pk).update(
            queued_at=timezone.now() - timedelta(seconds=45)
        )
    page = world.login("a", Role.FINANCE_ANALYST).get(
        reverse("jobs:detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    )
    html = page.content.decode()
    assert "Waiting for a worker:</strong> no worker has picked this job up for 45 s" in html


def test_members_see_only_the_jobs_their_role_may_run_or_that_they_asked_for(world):
    job = submit(world)
    url = reverse("jobs:detail", kwargs={"org_slug": "alpha", "pk": job.pk})
    assert world.login("a", Role.FINANCE_ANALYST).get(url).status_code == 200
    assert world.login("a", Role.VIEWER).get(url).status_code == 404
    listing = world.login("a", Role.VIEWER).get(reverse("jobs:list", kwargs={"org_slug": "alpha"}))
    assert listing.status_code == 200
    assert "No jobs yet." in listing.content.decode()


def test_retry_from_the_page(world):
    job = submit(world, kind="tests.flaky")
    client = world.login("a", Role.FINANCE_ANALYST)
    answer = client.post(reverse("jobs:retry", kwargs={"org_slug": "alpha", "pk": job.pk}))
    assert answer.status_code == 302
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (
        world.login("a", Role.VIEWER)
        .post(reverse("jobs:retry", kwargs={"org_slug": "alpha", "pk": job.pk}))
        .status_code
        == 404
    )


def _token(world, key="a", scopes=(TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE), role=Role.FINANCE_ANALYST):
    organization = world.org(key)
    with scope(organization=organization):
        api_client = ApiClientFactory(organization=organization, scopes=list(scopes), role=role)
    return Client(headers={"Authorization": f"Bearer {api_client.raw_token}"})


def test_the_api_lists_and_retries_jobs(world):
    job = submit(world, kind="tests.flaky")
    api = _token(world)
    listing = api.get("/api/v1/jobs/")
    assert listing.status_code == 200
    row = listing.json()["results"][0]
    assert (row["id"], row["status"], row["error_message"], row["url"]) == (
        job.pk,
        "failed",
        "The October invoices are missing: upload them, then retry.",
        f"/api/v1/jobs/{job.pk}/",
    )
    answer = api.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert answer.status_code == 202
    assert answer["Location"] == f"/api/v1/jobs/{job.pk}/"
    assert answer.json()["status"] == "succeeded"
    assert answer.json()["attempts"] == 2
    # A viewer token reads but may not run it; a token without periods:read cannot read it.
    viewer = _token(world, role=Role.VIEWER)
    assert viewer.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 403
    assert _token(world, scopes=[TokenScope.USAGE_READ]).get("/api/v1/jobs/").status_code == 403


def test_the_jobs_list_refuses_a_parameter_it_does_not_take(world):
    answer = _token(world).get("/api/v1/jobs/?status=failed")
    assert answer.status_code == 400
    assert answer.json()["non_field_errors"] == ["Not a parameter of this list: status. It takes cursor, page_size."]
