"""The workflow's missing steps (issue 18): send back from review, closing in order (or out of order with a
finance admin's reason), approvers told of a submission, the period page's actions and blocked actions.

Every period here walks through the real transitions (``tests.scenarios.step``); amounts are read back from the
statements the real services issued."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationRun
from apps.allocation.runs.services import allocation_run_create
from apps.audit.models import AuditEvent
from apps.disputes.services import dispute_open, dispute_reject
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod, LateArrival
from apps.periods.services import TransitionBlocked, TransitionForbidden, period_transition, transition_check
from apps.reconciliation.models import ReconciliationRun
from apps.statements.models import FinalStatementError, Statement
from apps.statements.services import statements_issue
from apps.tenancy.roles import TokenScope
from apps.webhooks.models import Event
from tests import scenarios
from tests.factories.periods import BillingPeriodFactory, LateArrivalFactory, set_state
from tests.scenarios import OCT, TO_IN_REVIEW, reconciled, step, walk

SEP = datetime.date(2026, 9, 1)
REASON = "The ads team's tags were mapped to search by mistake: re-allocating."


def _statements(organization, **filters):
    with scope(organization=organization):
        return list(Statement.objects.filter(period=OCT, **filters).order_by("owner_code", "pk"))


def _own_search(world):
    """The budget-owner member owns CC-1101 (Search): the statements' e-mails go to them."""
    organization = world.org("a")
    with scope(organization=organization):
        BudgetOwner.objects.get(code="CC-1101").owner_users.add(world.user("a", "budget_owner"))


def _send_back(world, *, reason=REASON, role="finance_admin"):
    return period_transition(
        organization=world.org("a"), period=OCT, transition="send_back", actor=world.user("a", role), reason=reason
    )


# --- send back -------------------------------------------------------------------------------------------


def test_send_back_withdraws_the_drafts_tells_their_owners_and_a_resubmission_issues_new_ones(
    ready, django_capture_on_commit_callbacks
):
    world = ready
    organization = world.org("a")
    walk(world, *TO_IN_REVIEW)
    _own_search(world)
    drafts = _statements(organization)
    assert {s.status for s in drafts} == {"draft"} and len(drafts) >= 1
    issued_totals = {s.owner_code: s.total_nano for s in drafts}
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        billing_period = _send_back(world)

    assert billing_period.state == "reconciling"
    assert billing_period.version == 1
    assert billing_period.prepared_at is None and billing_period.prepared_by_label == ""
    withdrawn = _statements(organization)
    assert [s.pk for s in withdrawn] == [s.pk for s in drafts]  # kept, not deleted
    assert {(s.status, s.withdrawn_reason, s.withdrawn_by_label) for s in withdrawn} == {
        ("withdrawn", REASON, "alpha-finance_admin")
    }
    # The run they were built from stays issued: it explains them.
    with scope(organization=organization):
        assert list(AllocationRun.objects.filter(period=OCT).values_list("status", flat=True)) == ["issued"]
        [event] = AuditEvent.objects.filter(action="billing_period.send_back")
        [webhook] = Event.objects.filter(type="period.sent_back")
    assert event.reason == REASON
    assert event.before["state"] == "in_review" and event.after["state"] == "reconciling"
    assert event.after["withdrawn_prepared_by"] == "alpha-finance_analyst"
    assert webhook.data == {"period": "2026-10", "state": "reconciling", "version": 1, "reason": REASON}
    [owner_mail] = [m for m in mail.outbox if m.to == ["alpha-budget_owner@example.com"]]
    assert owner_mail.subject == "[Alpha Corp] Draft statements for 2026-10 withdrawn"
    assert f"Reason: {REASON}" in owner_mail.body
    assert "2026-10-CC-1101-v1" in owner_mail.body

    # A withdrawn draft never changes again.
    with scope(organization=organization), pytest.raises(FinalStatementError):
        withdrawn[0].save()

    # Allocate again (nothing changed, so the same figures) and resubmit: new drafts of version 1 beside them.
    step(world, "submit_for_review")
    current = _statements(organization, status="draft")
    assert {s.owner_code: s.total_nano for s in current} == issued_totals
    assert {s.version for s in current} == {1}
    assert not {s.pk for s in current} & {s.pk for s in withdrawn}
    assert len(_statements(organization, status="withdrawn")) == len(withdrawn)


def test_send_back_needs_a_reason_and_a_finance_admin(ready):
    world = ready
    walk(world, *TO_IN_REVIEW)
    with pytest.raises(TransitionBlocked) as no_reason:
        _send_back(world, reason="  ")
    assert no_reason.value.messages == [
        "Sending 2026-10 back needs a written reason: the owners of its withdrawn drafts are told it."
    ]
    with pytest.raises(TransitionForbidden) as analyst:
        _send_back(world, role="finance_analyst")
    assert analyst.value.messages == [
        "Your role (Finance analyst (preparer)) cannot send back 2026-10: only finance admins can."
    ]


def test_an_api_token_may_not_send_a_period_back(ready):
    world = ready
    walk(world, *TO_IN_REVIEW)
    response = world.api("a", scopes=[TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE]).post(
        "/api/v1/periods/2026-10/transitions/",
        {"transition": "send_back", "reason": REASON},
        content_type="application/json",
    )
    assert response.status_code == 403
    with scope(organization=world.org("a")):
        assert BillingPeriod.objects.get(period=OCT).state == "in_review"


def test_an_open_dispute_blocks_the_send_back_and_the_message_links_to_it(ready):
    world = ready
    organization = world.org("a")
    walk(world, *TO_IN_REVIEW)
    _own_search(world)
    [search] = _statements(organization, owner_code="CC-1101")
    with scope(organization=organization):
        dispute = dispute_open(
            statement=search, actor=world.user("a", "budget_owner"), amount=Decimal("1.00"), reason="Not ours."
        )
    with pytest.raises(TransitionBlocked) as blocked:
        _send_back(world)
    [message] = blocked.value.messages
    assert message == (
        "1 dispute is still open: resolve it before sending the period back (its statement would be withdrawn)."
    )
    with scope(organization=organization):
        check = transition_check(
            organization=organization,
            period=OCT,
            transition="send_back",
            actor=world.user("a", "finance_admin"),
            reason=REASON,
        )
    assert [m.url for m in check.blocked] == [f"/o/alpha/disputes/{dispute.pk}/"]
    with scope(organization=organization):
        dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="Tagged as search.")
    assert _send_back(world).state == "reconciling"


# --- close in order --------------------------------------------------------------------------------------


@pytest.fixture
def two_months(ready):
    """September in review (its cycle under way), October approved, August open (no cycle started)."""
    world = ready
    organization = world.org("a")
    reconciled(organization, SEP)
    with scope(organization=organization):
        BillingPeriodFactory(organization=organization, period=datetime.date(2026, 8, 1))
    walk(world, *TO_IN_REVIEW, period=SEP)
    walk(world, *TO_IN_REVIEW, "approve")
    return world


def test_a_period_cannot_close_while_an_earlier_one_is_in_review(two_months):
    world = two_months
    with pytest.raises(TransitionBlocked) as blocked:
        step(world, "close")
    [message] = blocked.value.messages
    assert message == (
        "2026-09 is in review: periods close in order, so close 2026-09 first, or a finance admin closes "
        "2026-10 out of order with a written reason."
    )
    with scope(organization=world.org("a")):
        check = transition_check(
            organization=world.org("a"), period=OCT, transition="close", actor=world.user("a", "finance_admin")
        )
    assert [m.url for m in check.blocked] == ["/o/alpha/periods/2026-09/"]
    assert [p.label for p in check.earlier_open] == ["2026-09"]
    with pytest.raises(TransitionBlocked) as no_reason:
        step(world, "close", override=True)
    assert no_reason.value.messages[-1] == "Closing 2026-10 out of order needs a written reason."
    with scope(organization=world.org("a")):
        assert BillingPeriod.objects.get(period=OCT).state == "approved"


def test_a_finance_admin_closes_out_of_order_with_a_reason_recorded_in_the_audit(two_months):
    world = two_months
    reason = "September waits on a disputed Anthropic credit note; October's ledger must post this week."
    closed = step(world, "close", override=True, reason=reason)
    assert closed.state == "closed"
    with scope(organization=world.org("a")):
        [event] = AuditEvent.objects.filter(action="billing_period.close")
        september = BillingPeriod.objects.get(period=SEP)
    assert event.reason == reason
    assert event.after["closed_out_of_order"] == ["2026-09"]
    assert september.state == "in_review"  # untouched: it still closes in its own time


def test_an_earlier_period_still_open_does_not_hold_a_later_one_back(ready):
    world = ready
    organization = world.org("a")
    with scope(organization=organization):
        BillingPeriodFactory(organization=organization, period=SEP)  # open: no cycle started
    walk(world, *TO_IN_REVIEW, "approve")
    assert step(world, "close").state == "closed"


def test_the_token_is_refused_the_close_override(two_months):
    world = two_months
    response = world.api("a").post(
        "/api/v1/periods/2026-10/transitions/",
        {"transition": "close", "override": True, "reason": "script"},
        content_type="application/json",
    )
    assert response.status_code == 403


# --- approvers told of a submission ----------------------------------------------------------------------


def test_submitting_for_review_e_mails_the_approvers_but_not_the_preparer(ready, django_capture_on_commit_callbacks):
    world = ready
    step(world, "start_reconciliation")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        step(world, "submit_for_review", actor=world.user("a", "finance_admin"))
    approver_mail = [m for m in mail.outbox if "ready for your review" in m.subject]
    # The finance admin submitted it, so may not approve it: there is no other approver to tell.
    assert approver_mail == []


def test_the_approvers_get_the_submission_with_a_link(ready, django_capture_on_commit_callbacks):
    world = ready
    step(world, "start_reconciliation")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        step(world, "submit_for_review")  # by the finance analyst
    [approver_mail] = [m for m in mail.outbox if "ready for your review" in m.subject]
    assert approver_mail.to == ["alpha-finance_admin@example.com"]
    assert approver_mail.subject == "[Alpha Corp] 2026-10 is ready for your review"
    assert "alpha-finance_analyst submitted 2026-10 (version 1) for review" in approver_mail.body
    assert approver_mail.body.endswith("/o/alpha/periods/2026-10/")


# --- the period page -------------------------------------------------------------------------------------


def test_the_page_shows_a_blocked_approval_as_disabled_with_a_link_to_the_open_dispute(
    ready, django_assert_max_num_queries
):
    world = ready
    organization = world.org("a")
    walk(world, *TO_IN_REVIEW)
    _own_search(world)
    [search] = _statements(organization, owner_code="CC-1101")
    with scope(organization=organization):
        dispute = dispute_open(
            statement=search, actor=world.user("a", "budget_owner"), amount=Decimal("1.00"), reason="Not ours."
        )
    client = world.login("a", "finance_admin")
    url = reverse("periods:detail", kwargs={"org_slug": "alpha", "period": "2026-10"})
    with django_assert_max_num_queries(24):  # 20 measured (session, membership, period, guards, facts, figures)
        response = client.get(url)
    html = response.content.decode()
    link = f'<a href="/o/alpha/disputes/{dispute.pk}/">1 dispute is still open: resolve it before approving.</a>'
    assert link in html
    assert (
        '<button type="button" class="primary is-disabled" aria-disabled="true" '
        'aria-describedby="next-step-blockers">Approve 2026-10</button>'
    ) in html
    # The way back is there too, blocked by the same dispute.
    assert (
        '<button type="button" class="danger is-disabled" aria-disabled="true" '
        'aria-describedby="send_back-blockers">Send back 2026-10</button>'
    ) in html
    # Allocation is frozen in review: the button says so and points to the send back.
    assert 'aria-describedby="allocate-blocker">Allocate 2026-10</button>' in html
    assert '<a href="#send_back">Send it back</a>' in html


def test_the_page_says_when_data_arrived_after_the_last_reconciliation_run_and_offers_to_run_it_again(ready):
    world = ready
    organization = world.org("a")
    step(world, "start_reconciliation")
    with scope(organization=organization):
        billing_period = BillingPeriod.objects.get(period=OCT)
        run = ReconciliationRun.objects.get(period=OCT)
        LateArrivalFactory(
            organization=organization, billing_period=billing_period, rows=120, job_id=7, first_at=run.created_at
        )
        before = LateArrivalFactory(organization=organization, billing_period=billing_period, rows=5, job_id=8)
        # One arrival stored before the run: not counted.
        LateArrival.objects.filter(pk=before.pk).update(
            first_at=run.created_at - datetime.timedelta(hours=1), last_at=run.created_at - datetime.timedelta(hours=1)
        )
        after = run.created_at + datetime.timedelta(minutes=30)
        LateArrival.objects.filter(job_id=7).update(last_at=after)
    html = world.login("a", "finance_analyst").get("/o/alpha/periods/2026-10/").content.decode()
    assert "Data arrived after the last reconciliation run." in html
    assert "120 usage rows (run #" in html
    assert '<form class="inline" method="post" action="/o/alpha/reconciliation/run/">' in html
    assert '<input type="hidden" name="period" value="2026-10">' in html
    assert '<button class="primary">Run reconciliation again</button>' in html
    assert '<form class="inline" method="post" action="/o/alpha/allocation/2026-10/allocate/">' in html
    assert "<button>Allocate 2026-10</button>" in html


def test_the_page_without_late_data_has_no_notice_and_a_viewer_gets_no_actions(ready):
    world = ready
    step(world, "start_reconciliation")
    html = world.login("a", "finance_analyst").get("/o/alpha/periods/2026-10/").content.decode()
    assert "Data arrived after the last reconciliation run" not in html
    viewer = world.login("a", "viewer").get("/o/alpha/periods/2026-10/").content.decode()
    assert "Only finance analysts, finance admins and org admins reconcile and allocate." in viewer
    assert "/allocate/" not in viewer


def test_a_reopened_period_sent_back_resubmits_drafts_that_supersede_the_final_version(world):
    """Version 2 (after a reopen) sent back: its withdrawn drafts let go of the final version 1 they were to
    replace, and the resubmitted version 2 takes the link (``supersedes`` is one-to-one)."""
    organization = world.org("a")
    first = scenarios.issued(organization, world.user("a", "finance_analyst"))
    version_2 = scenarios.reissued(first)
    finals = {s.owner_code: s.supersedes_id for s in version_2}
    assert all(finals.values())
    billing_period = first.refresh_period()
    assert (billing_period.state, billing_period.version) == ("in_review", 2)
    period_transition(
        organization=organization,
        period=OCT,
        transition="send_back",
        actor=world.user("a", "finance_admin"),
        reason=REASON,
    )
    with scope(organization=organization):
        withdrawn = list(Statement.objects.filter(version=2).order_by("owner_code"))
    assert {(s.status, s.supersedes_id) for s in withdrawn} == {("withdrawn", None)}
    allocation_run_create(organization=organization, period=OCT, actor=None)
    set_state(first.refresh_period(), BillingPeriod.State.IN_REVIEW)
    resubmitted = statements_issue(billing_period=first.refresh_period(), actor=None, reason="")
    assert {s.owner_code: s.supersedes_id for s in resubmitted} == finals
    assert {s.owner_code: s.total_nano for s in resubmitted} == {s.owner_code: s.total_nano for s in version_2}
