"""The workflow service: every transition, every guard with its exact message, one audit event each."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods import hooks
from apps.periods.models import BillingPeriod, StateChangeError
from apps.periods.services import (
    TransitionBlocked,
    TransitionForbidden,
    WrongState,
    period_transition,
    transition_check,
)
from apps.periods.workflow import BACKWARD, STATE_ORDER, TRANSITIONS, transition_from, transitions_back_from
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.scenarios import OCT, TO_CLOSED, TO_IN_REVIEW, chargeback, reconciled, second_finance_admin, step, walk

pytestmark = pytest.mark.django_db


def period_events(organization, billing_period=None):
    with scope(organization=organization):
        events = AuditEvent.objects.filter(action__startswith="billing_period.")
        if billing_period is not None:
            events = events.filter(object_id=str(billing_period.pk))
        return list(events.order_by("seq"))


def test_the_table_has_one_way_forward_out_of_each_state_in_review_a_second_way_back_and_names_the_hooks_transitions():
    assert tuple(TRANSITIONS) == hooks.TRANSITION_NAMES
    forward = [t for t in TRANSITIONS.values() if t.name not in BACKWARD]
    assert [t.source for t in forward] == [*STATE_ORDER]
    assert [(t.source, t.target) for t in TRANSITIONS.values()] == [
        ("open", "reconciling"),
        ("reconciling", "in_review"),
        ("in_review", "approved"),
        ("approved", "closed"),
        ("closed", "open"),
        ("in_review", "reconciling"),
    ]
    # in_review has two ways out: forward (approve) and back (send_back); every other state has exactly one.
    ways_out = {state: [t.name for t in TRANSITIONS.values() if t.source == state] for state in STATE_ORDER}
    assert ways_out["in_review"] == ["approve", "send_back"]
    assert all(len(names) == 1 for state, names in ways_out.items() if state != "in_review")
    assert [t.name for t in TRANSITIONS.values() if t.reason_required] == ["reopen", "send_back"]
    assert [t.name for t in transitions_back_from("in_review")] == ["send_back"]


def test_a_period_walks_from_open_to_closed_recording_who_did_what_with_one_audit_event_per_step(ready):
    world = ready
    organization = world.org("a")
    analyst, approver = world.user("a", Role.FINANCE_ANALYST), world.user("a", Role.FINANCE_ADMIN)
    expected_states = ["reconciling", "in_review", "approved", "closed"]
    for name, state in zip(TO_CLOSED, expected_states, strict=True):
        before = len(period_events(organization))
        billing_period = step(world, name, reason=f"note for {name}")
        assert billing_period.state == state
        events = period_events(organization)
        assert len(events) == before + 1, f"{name} wrote {len(events) - before} audit events"
    billing_period.refresh_from_db()
    assert (billing_period.prepared_by, billing_period.prepared_by_label) == (analyst, analyst.username)
    assert (billing_period.approved_by, billing_period.approved_by_label) == (approver, approver.username)
    assert (billing_period.closed_by, billing_period.closed_by_label) == (approver, approver.username)
    assert billing_period.prepared_at <= billing_period.approved_at <= billing_period.closed_at
    assert billing_period.override_reason == "" and billing_period.override_by is None
    events = period_events(organization, billing_period)
    assert [(e.action, e.actor_label, e.before["state"], e.reason) for e in events] == [
        ("billing_period.start_reconciliation", analyst.username, "open", "note for start_reconciliation"),
        ("billing_period.submit_for_review", analyst.username, "reconciling", "note for submit_for_review"),
        ("billing_period.approve", approver.username, "in_review", "note for approve"),
        ("billing_period.close", approver.username, "approved", "note for close"),
    ]
    assert {e.before["version"] for e in events} == {1}
    assert [e.after["state"] for e in events] == expected_states
    assert events[1].after["reconciliation_run"] is not None
    assert all(e.actor == (analyst if i < 2 else approver) for i, e in enumerate(events))


@pytest.mark.parametrize(
    ("done", "transition", "state", "needs"),
    [
        ((), "submit_for_review", "open", "Submit for review needs a period that is reconciling"),
        ((), "approve", "open", "Approve needs a period that is in review"),
        ((), "close", "open", "Close needs a period that is approved"),
        ((), "reopen", "open", "Reopen needs a period that is closed"),
        (("start_reconciliation",), "approve", "reconciling", "Approve needs a period that is in review"),
        (
            ("start_reconciliation",),
            "start_reconciliation",
            "reconciling",
            "Start reconciliation needs a period that is open",
        ),
        (TO_IN_REVIEW, "close", "in review", "Close needs a period that is approved"),
        ((*TO_IN_REVIEW, "approve"), "approve", "approved", "Approve needs a period that is in review"),
        (TO_CLOSED, "start_reconciliation", "closed", "Start reconciliation needs a period that is open"),
    ],
)
def test_skipping_or_repeating_a_state_is_refused_with_409_and_changes_nothing(ready, done, transition, state, needs):
    world = ready
    walk(world, *done)
    events = len(period_events(world.org("a")))
    with pytest.raises(WrongState) as refused:
        step(world, transition, reason="because")
    assert refused.value.messages == [f"2026-10 is {state}: {needs}."]
    assert refused.value.status_code == 409
    assert len(period_events(world.org("a"))) == events


def test_an_unknown_transition_is_named(world):
    with pytest.raises(TransitionBlocked) as refused:
        period_transition(organization=world.org("a"), period=OCT, transition="finalise", actor=None)
    assert refused.value.messages == [
        "Unknown transition “finalise”: use one of start_reconciliation, submit_for_review, approve, close, reopen, "
        "send_back."
    ]


PREPARERS = "finance admins and finance analysts"
ANALYST = "Finance analyst (preparer)"


@pytest.mark.parametrize(
    ("role", "transition", "done", "role_label", "verb", "who"),
    [
        (Role.VIEWER, "start_reconciliation", (), "Viewer", "start reconciling", PREPARERS),
        (Role.ORG_ADMIN, "start_reconciliation", (), "Org admin", "start reconciling", PREPARERS),
        (
            Role.BUDGET_OWNER,
            "submit_for_review",
            ("start_reconciliation",),
            "Budget owner",
            "submit for review",
            PREPARERS,
        ),
        (Role.FINANCE_ANALYST, "approve", TO_IN_REVIEW, ANALYST, "approve", "finance admins"),
        (Role.FINANCE_ANALYST, "close", (*TO_IN_REVIEW, "approve"), ANALYST, "close", "finance admins"),
        (Role.FINANCE_ANALYST, "reopen", TO_CLOSED, ANALYST, "reopen", "finance admins"),
    ],
)
def test_roles_are_checked_with_a_message_that_says_who_may(ready, role, transition, done, role_label, verb, who):
    world = ready
    walk(world, *done)
    with pytest.raises(TransitionForbidden) as refused:
        step(world, transition, actor=world.user("a", role), reason="because")
    assert refused.value.messages == [f"Your role ({role_label}) cannot {verb} 2026-10: only {who} can."]
    assert refused.value.status_code == 403


def test_a_member_of_another_organisation_may_not_act(ready):
    world = ready
    with pytest.raises(TransitionForbidden) as refused:
        step(world, "start_reconciliation", actor=world.user("b", Role.FINANCE_ADMIN))
    assert refused.value.messages == [
        "beta-finance_admin is not a member of Alpha Corp: only finance admins and finance analysts can "
        "start reconciling 2026-10."
    ]


def test_submitting_needs_a_reconciliation_run_of_the_month(world):
    walk(world, "start_reconciliation")
    reconciled(world.org("a"), date(2026, 9, 1))  # another month's run does not count
    with pytest.raises(TransitionBlocked) as refused:
        step(world, "submit_for_review")
    assert refused.value.messages == [
        "Reconcile 2026-10 first: submitting for review needs a reconciliation run of the month."
    ]


def test_outside_tolerance_blocks_submitting_and_names_each_provider(world):
    run = reconciled(world.org("a"), within=False).run
    walk(world, "start_reconciliation")
    with pytest.raises(TransitionBlocked) as refused:
        step(world, "submit_for_review")
    assert refused.value.messages == [
        f"Reconciliation run #{run.pk} of 2026-10 is outside the 5% tolerance for anthropic (+6.30%), "
        "mistral (no invoice): fix the data and reconcile again, or a finance admin submits with an override "
        "and a written reason."
    ]


def test_the_latest_run_decides(world):
    reconciled(world.org("a"), within=False)
    reconciled(world.org("a"), within=True)
    walk(world, "start_reconciliation")
    assert step(world, "submit_for_review").state == "in_review"


def test_an_analyst_cannot_override_the_tolerance(world):
    reconciled(world.org("a"), within=False)
    walk(world, "start_reconciliation")
    with pytest.raises(TransitionForbidden) as refused:
        step(world, "submit_for_review", override=True, reason="known gap")
    assert refused.value.messages == [
        "Only finance admins can override the reconciliation tolerance: ask one to submit 2026-10 with a written "
        "reason."
    ]


def test_an_override_needs_a_written_reason(world):
    reconciled(world.org("a"), within=False)
    walk(world, "start_reconciliation")
    with pytest.raises(TransitionBlocked) as refused:
        step(world, "submit_for_review", actor=world.user("a", Role.FINANCE_ADMIN), override=True, reason="  ")
    assert refused.value.messages == [
        "An override needs a written reason: say why 2026-10 may go to review outside the tolerance."
    ]


def test_a_finance_admins_override_is_recorded_on_the_period_and_in_its_audit_event(world):
    run = reconciled(world.org("a"), within=False).run
    admin = world.user("a", Role.FINANCE_ADMIN)
    walk(world, "start_reconciliation")
    billing_period = step(
        world, "submit_for_review", actor=admin, override=True, reason="Anthropic credit note due in November"
    )
    assert billing_period.state == "in_review"
    assert billing_period.override_reason == "Anthropic credit note due in November"
    assert (billing_period.override_by, billing_period.override_by_label) == (admin, admin.username)
    assert billing_period.override_at == billing_period.prepared_at
    assert billing_period.prepared_by == admin
    event = period_events(world.org("a"), billing_period)[-1]
    assert event.after == {
        "state": "in_review",
        "version": 1,
        "period": "2026-10",
        "reconciliation_run": run.pk,
        "override": True,
    }
    assert event.reason == "Anthropic credit note due in November"


def test_an_override_within_tolerance_is_not_recorded(ready):
    walk(ready, "start_reconciliation")
    billing_period = step(
        ready, "submit_for_review", actor=ready.user("a", Role.FINANCE_ADMIN), override=True, reason="just in case"
    )
    assert billing_period.override_at is None and billing_period.override_reason == ""


def test_the_preparer_cannot_approve_their_own_period(ready):
    world = ready
    admin = world.user("a", Role.FINANCE_ADMIN)
    walk(world, "start_reconciliation")
    step(world, "submit_for_review", actor=admin)
    with pytest.raises(TransitionForbidden) as refused:
        step(world, "approve", actor=admin)
    assert refused.value.messages == [
        "alpha-finance_admin prepared 2026-10 (submitted it for review), so cannot approve it: another finance "
        "admin must (maker-checker)."
    ]
    assert step(world, "approve", actor=second_finance_admin(world)).state == "approved"


def test_the_database_refuses_an_approver_who_is_the_preparer(ready):
    billing_period = walk(ready, *TO_IN_REVIEW)
    with scope(organization=ready.org("a")), pytest.raises(IntegrityError), transaction.atomic():
        BillingPeriod.objects.filter(pk=billing_period.pk).update(approved_by=billing_period.prepared_by)


@pytest.mark.parametrize("transition", ["approve", "close"])
def test_showback_stops_at_reviewed_statements(world, transition):
    reconciled(world.org("a"))
    chargeback(world.org("a"))
    walk(world, *TO_IN_REVIEW, *(["approve"] if transition == "close" else []))
    Organization.objects.filter(pk=world.org("a").pk).update(mode=Organization.Mode.SHOWBACK)
    world.org("a").refresh_from_db()
    with pytest.raises(TransitionBlocked) as refused:
        step(world, transition)
    assert refused.value.messages == [
        f"Alpha Corp is in showback: periods stop at reviewed statements; switch to chargeback to {transition}."
    ]


def test_reopening_needs_a_reason_and_starts_the_next_version_afresh(ready):
    world = ready
    walk(world, *TO_CLOSED)
    with pytest.raises(TransitionBlocked) as refused:
        step(world, "reopen", reason=" ")
    assert refused.value.messages == ["Reopening needs a written reason: it starts version 2 of 2026-10's statements."]
    billing_period = step(world, "reopen", reason="Anthropic credit note arrived")
    assert (billing_period.state, billing_period.version) == ("open", 2)
    assert (billing_period.prepared_at, billing_period.approved_by, billing_period.closed_at) == (None, None, None)
    event = period_events(world.org("a"), billing_period)[-1]
    assert (event.action, event.before, event.after, event.reason) == (
        "billing_period.reopen",
        {"state": "closed", "version": 1},
        {"state": "open", "version": 2, "period": "2026-10"},
        "Anthropic credit note arrived",
    )
    # The next cycle needs its own preparer and approver again.
    assert walk(world, *TO_CLOSED).version == 2


def test_guards_and_effects_registered_by_other_apps_take_part(ready):
    world = ready
    calls = []

    def guard(billing_period, actor):
        return "2 disputes are still open." if billing_period.state == "in_review" else None

    def effect(billing_period, actor, reason):
        calls.append((billing_period.state, actor.username, reason))

    hooks.register_guard("approve", guard)
    hooks.on_transition("submit_for_review", effect)
    try:
        walk(world, "start_reconciliation")
        step(world, "submit_for_review", reason="ready")
        assert calls == [("in_review", "alpha-finance_analyst", "ready")]
        check = transition_check(
            organization=world.org("a"), period=OCT, transition="approve", actor=world.user("a", Role.FINANCE_ADMIN)
        )
        assert check.blocked == ["2 disputes are still open."]
        with pytest.raises(TransitionBlocked) as refused:
            step(world, "approve")
        assert refused.value.messages == ["2 disputes are still open."]
    finally:
        hooks._guards["approve"].remove(guard)
        hooks._effects["submit_for_review"].remove(effect)


def test_a_failing_effect_rolls_the_whole_transition_back(ready):
    world = ready

    def effect(billing_period, actor, reason):
        raise RuntimeError("statements could not be built")

    hooks.on_transition("start_reconciliation", effect)
    try:
        with pytest.raises(RuntimeError):
            step(world, "start_reconciliation")
    finally:
        hooks._effects["start_reconciliation"].remove(effect)
    with scope(organization=world.org("a")):
        assert not BillingPeriod.objects.filter(period=OCT).exists()
    assert period_events(world.org("a")) == []


def test_the_state_changes_only_through_the_service(ready):
    billing_period = walk(ready, "start_reconciliation")
    with scope(organization=ready.org("a")):
        billing_period.state = BillingPeriod.State.CLOSED
        with pytest.raises(StateChangeError):
            billing_period.save()
        with pytest.raises(StateChangeError):
            BillingPeriod.objects.filter(pk=billing_period.pk).update(state="closed")
        with pytest.raises(StateChangeError):
            BillingPeriod(organization=ready.org("a"), period=date(2026, 12, 1), state="approved").save()
        billing_period.refresh_from_db()
        assert billing_period.state == "reconciling"
        billing_period.save()  # an unchanged state saves fine


def test_the_database_refuses_an_unknown_state_or_a_review_without_a_preparer(ready):
    billing_period = walk(ready, "start_reconciliation")
    with scope(organization=ready.org("a")):
        billing_period.state = "in_review"
        billing_period._transition_saving = True  # past the model's own guard, to reach the database's
        with pytest.raises(IntegrityError), transaction.atomic():
            billing_period.save()
        billing_period.state = "finished"
        with pytest.raises(IntegrityError), transaction.atomic():
            billing_period.save()


def test_the_dry_run_shows_what_would_block_without_changing_anything(world):
    reconciled(world.org("a"), within=False)
    analyst = world.user("a", Role.FINANCE_ANALYST)
    check = transition_check(organization=world.org("a"), period=OCT, transition="submit_for_review", actor=analyst)
    assert check.wrong_state == "2026-10 is open: Submit for review needs a period that is reconciling."
    assert check.outside_tolerance is True and not check.allowed
    with scope(organization=world.org("a")):
        assert not BillingPeriod.objects.exists()


def test_transition_from_each_state():
    assert [transition_from(state).name for state in STATE_ORDER] == [n for n in TRANSITIONS if n not in BACKWARD]
