"""A period's transitions emit their events (period.submitted, approved, closed, reopened) once each, in the
transition's transaction: a refused or rolled-back transition emits nothing."""

import pytest

from apps.periods import hooks
from apps.periods.services import TransitionForbidden, WrongState, period_transition
from apps.tenancy.roles import Role
from tests.event_log import events, summary
from tests.scenarios import OCT, TO_CLOSED, step, walk

pytestmark = pytest.mark.django_db

PERIOD = ("period", "2026-10", "/api/v1/periods/2026-10/")


def test_each_step_a_system_outside_follows_emits_one_event_with_its_actor_and_state(ready):
    world = ready
    organization = world.org("a")
    analyst, admin = world.user("a", Role.FINANCE_ANALYST), world.user("a", Role.FINANCE_ADMIN)
    walk(world, "start_reconciliation")
    assert events(organization) == []  # starting reconciliation is finance's own business
    step(world, "submit_for_review")
    step(world, "approve")
    step(world, "close")
    step(world, "reopen", reason="Anthropic credit note arrived")
    assert summary(organization, "period.") == [
        ("period.submitted", *PERIOD),
        ("period.approved", *PERIOD),
        ("period.closed", *PERIOD),
        ("period.reopened", *PERIOD),
    ]
    submitted, approved, closed, reopened = events(organization, "period.")
    assert [e.actor_label for e in (submitted, approved, closed, reopened)] == [
        analyst.username,
        admin.username,
        admin.username,
        admin.username,
    ]
    assert submitted.data == {"period": "2026-10", "state": "in_review", "version": 1}
    assert approved.data == {"period": "2026-10", "state": "approved", "version": 1}
    assert closed.data == {"period": "2026-10", "state": "closed", "version": 1}
    assert reopened.data == {
        "period": "2026-10",
        "state": "open",
        "version": 2,
        "reason": "Anthropic credit note arrived",
    }
    # Every event of the organisation (the statements' too) is numbered 1, 2, 3... in the order written.
    assert [e.seq for e in events(organization)] == list(range(1, len(events(organization)) + 1))


def test_a_refused_transition_emits_nothing(ready):
    world = ready
    organization = world.org("a")
    walk(world, "start_reconciliation")
    with pytest.raises(WrongState):
        step(world, "approve")
    step(world, "submit_for_review")
    before = summary(organization)
    analyst = world.user("a", Role.FINANCE_ANALYST)
    with pytest.raises(TransitionForbidden):  # the preparer may not approve (and an analyst may not at all)
        step(world, "approve", actor=analyst)
    with pytest.raises(WrongState):
        period_transition(organization=organization, period=OCT, transition="submit_for_review", actor=analyst)
    assert summary(organization) == before
    assert [t for t, *_ in before] == ["period.submitted", "statement.issued", "statement.issued"]


def test_a_transition_rolled_back_by_a_failing_effect_leaves_no_event(ready):
    world = ready
    organization = world.org("a")

    def effect(billing_period, actor, reason):
        raise RuntimeError("the journal could not be booked")

    walk(world, *TO_CLOSED[:-1])
    before = summary(organization)
    hooks.on_transition("close", effect)
    try:
        with pytest.raises(RuntimeError):
            step(world, "close")
    finally:
        hooks._effects["close"].remove(effect)
    # Neither period.closed nor the statement.finalized events of the statements the close made final.
    assert summary(organization) == before
    step(world, "close")
    after = summary(organization)[len(before) :]
    assert [t for t, *_ in after] == ["period.closed", "statement.finalized", "statement.finalized"]
    # The counter rolled back with the events: the close's events follow on without a gap.
    assert [e.seq for e in events(organization)] == list(range(1, len(before) + 4))
