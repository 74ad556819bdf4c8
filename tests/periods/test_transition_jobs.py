"""The transitions that issue or finalise statements run as jobs ("periods.transition"): checked at once in the
request (a blocked one is refused there, nothing queued), done by the worker (in-process here: tests run tasks
eagerly), one job per period at a time, and a redelivered job issues nothing twice."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Sum
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationLine
from apps.audit.models import AuditEvent
from apps.core.money import nano_to_decimal
from apps.jobs import services as job_services
from apps.jobs.models import Job
from apps.periods.jobs import KIND, period_transition_submit
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.tenancy.roles import Role
from tests.scenarios import OCT, allocated, step

pytestmark = pytest.mark.django_db

TRANSITION_URL = reverse("periods:transition", kwargs={"org_slug": "alpha", "period": "2026-10"})


def jobs_of(organization) -> list[Job]:
    with scope(organization=organization):
        return list(Job.objects.filter(kind=KIND).order_by("pk"))


def statements_of(organization) -> list[tuple[str, int, str, Decimal]]:
    with scope(organization=organization):
        return list(
            Statement.objects.order_by("owner_code").values_list("owner_code", "version", "status", "total_amount")
        )


def events(organization, action: str) -> int:
    with scope(organization=organization):
        return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def reconciling(ready):
    month = allocated(ready.org("a"))
    step(ready, "start_reconciliation")
    ready.month = month
    return ready


def test_submitting_from_the_page_issues_the_statements_through_a_job_and_mails_the_owners(
    reconciling, django_capture_on_commit_callbacks
):
    world, organization = reconciling, reconciling.org("a")
    with scope(organization=organization):
        owner = reconciling.month.owners["CC-1101"]
        owner.owner_users.add(world.user("a", Role.BUDGET_OWNER))
        lines = AllocationLine.objects.filter(run=reconciling.month.run, owner__isnull=False)
        by_owner = {
            row["owner__code"]: row["total"] for row in lines.values("owner__code").annotate(total=Sum("amount_nano"))
        }
    client = world.login("a", Role.FINANCE_ANALYST)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSITION_URL, {"transition": "submit_for_review"})
    # No broker here: the job ran in the request, so the page goes back to the period, as before.
    assert (response.status_code, response["Location"]) == (302, "/o/alpha/periods/2026-10/")
    [job] = jobs_of(organization)
    assert (job.status, job.params["transition"], job.dedupe_key, job.attempts) == (
        "succeeded",
        "submit_for_review",
        "period:2026-10",
        1,
    )
    assert job.result_url == "/o/alpha/periods/2026-10/"
    issued = statements_of(organization)
    # One draft per owner the allocation charged, each for what the allocation lines say (a direct sum).
    assert {code: total for code, _version, _status, total in issued} == {
        code: nano_to_decimal(nano) for code, nano in by_owner.items()
    }
    assert {(version, status) for _code, version, status, _total in issued} == {(1, "draft")}
    # The owner's e-mail went through the mail task (send_mail_on_commit), after the transition committed.
    [message] = [m for m in mail.outbox if "issued" in m.subject]
    assert message.to == [world.user("a", Role.BUDGET_OWNER).email]
    assert "CC-1101" in message.body


def test_a_blocked_transition_is_refused_in_the_request_and_queues_nothing(ready):
    # October is open: submitting it for review skips a state (409), at once, with the service's message.
    response = ready.login("a", Role.FINANCE_ANALYST).post(TRANSITION_URL, {"transition": "submit_for_review"})
    assert response.status_code == 409
    assert response.context["errors"] == ["2026-10 is open: Submit for review needs a period that is reconciling."]
    assert jobs_of(ready.org("a")) == []
    assert events(ready.org("a"), "job.queued") == 0


def test_a_redelivered_job_does_not_issue_twice(reconciling):
    organization = reconciling.org("a")
    analyst = reconciling.user("a", Role.FINANCE_ANALYST)
    with scope(organization=organization):
        job = period_transition_submit(
            organization=organization, period=OCT, transition="submit_for_review", actor=analyst
        )
    assert job.status == "succeeded" and job.result["already_done"] is False
    issued = statements_of(organization)
    assert len(issued) == 2
    # The worker died after the transition committed, before it marked the job done: the broker redelivers.
    with scope(organization=organization):
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, finished_at=None)
    again = job_services.job_run(organization_id=organization.pk, job_id=job.pk)
    assert (again.status, again.attempts, again.result["already_done"], again.result["state"]) == (
        "succeeded",
        2,
        True,
        "in_review",
    )
    assert statements_of(organization) == issued
    assert events(organization, "billing_period.submit_for_review") == 1
    with scope(organization=organization):
        assert Statement.objects.count() == 2


def test_one_transition_job_per_period_at_a_time(reconciling):
    organization = reconciling.org("a")
    analyst = reconciling.user("a", Role.FINANCE_ANALYST)
    with scope(organization=organization):
        waiting = Job.objects.create(
            organization=organization,
            kind=KIND,
            title="Submit for review: 2026-10",
            params={"period": "2026-10", "transition": "submit_for_review"},
            created_by=analyst,
            dedupe_key="period:2026-10",
        )
        # Asking for the same transition again is the same job (done once) ...
        same = period_transition_submit(
            organization=organization, period=OCT, transition="submit_for_review", actor=analyst
        )
    assert same.pk == waiting.pk and same.status == "queued"
    # ... and a synchronous transition of the period waits for it (409, which job), before its own checks.
    client = reconciling.login("a", Role.FINANCE_ANALYST)
    response = client.post(TRANSITION_URL, {"transition": "start_reconciliation"})
    assert response.status_code == 409
    assert response.context["errors"] == [
        f"2026-10 is being moved by job {waiting.pk} (Submit for review: 2026-10, queued): wait until it finishes."
    ]


def test_a_queued_job_the_worker_has_not_run_sends_the_person_to_its_page(reconciling, settings):
    """With a broker the request returns once the job is recorded: the page follows the job."""
    from config.celery import app

    organization = reconciling.org("a")
    client = reconciling.login("a", Role.FINANCE_ANALYST)
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)  # restored by the autouse fixture
    response = client.post(TRANSITION_URL, {"transition": "submit_for_review"})
    [job] = jobs_of(organization)
    assert (response.status_code, response["Location"]) == (302, f"/o/alpha/jobs/{job.pk}/?follow=1")
    assert job.status == "queued"
    with scope(organization=organization):
        assert BillingPeriod.objects.get(period=OCT).state == "reconciling"  # the worker has not run it yet
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [
        "Submit for review: 2026-10: a worker is doing it; this page follows it."
    ]


def test_a_token_revoked_before_the_worker_runs_its_job_is_refused(reconciling):
    from django.utils import timezone

    from tests.factories import ApiClientFactory

    organization = reconciling.org("a")
    with scope(organization=organization):
        client = ApiClientFactory(organization=organization, role=Role.FINANCE_ANALYST)
        job = Job.objects.create(
            organization=organization,
            kind=KIND,
            title="Submit for review: 2026-10",
            params={"period": "2026-10", "transition": "submit_for_review", "api_client": client.pk},
            dedupe_key="period:2026-10",
        )
        client.revoked_at = timezone.now()
        client.save()
    done = job_services.job_run(organization_id=organization.pk, job_id=job.pk)
    assert (done.status, done.error_message) == (
        "failed",
        "The API client that asked for this job is revoked or expired.",
    )
    with scope(organization=organization):
        assert BillingPeriod.objects.get(period=OCT).state == "reconciling"
        assert Statement.objects.count() == 0


def test_the_period_page_says_a_worker_is_moving_it_and_links_to_the_job(reconciling):
    organization = reconciling.org("a")
    analyst = reconciling.user("a", Role.FINANCE_ANALYST)
    with scope(organization=organization):
        waiting = Job.objects.create(
            organization=organization,
            kind=KIND,
            title="Submit for review: 2026-10",
            params={"period": "2026-10", "transition": "submit_for_review"},
            created_by=analyst,
            dedupe_key="period:2026-10",
        )
    page = reconciling.login("a", Role.FINANCE_ANALYST).get(
        reverse("periods:detail", kwargs={"org_slug": "alpha", "period": "2026-10"})
    )
    html = page.content.decode()
    assert "<strong>Submit for review: 2026-10</strong> is queued (a worker issues the statements)" in html
    assert f'href="/o/alpha/jobs/{waiting.pk}/?follow=1">follow job {waiting.pk}</a>' in html
    # Once it is done the page no longer mentions it.
    with scope(organization=organization):
        Job.objects.filter(organization=organization, pk=waiting.pk).update(status=Job.Status.SUCCEEDED)
    again = reconciling.login("a", Role.FINANCE_ANALYST).get(
        reverse("periods:detail", kwargs={"org_slug": "alpha", "period": "2026-10"})
    )
    assert "a worker issues the statements" not in again.content.decode()
