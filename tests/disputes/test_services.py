"""Disputes: opening, discussing, accepting into adjustments (and rebuilt drafts), rejecting, the approve
guard, audit events and e-mails."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.disputes.models import Dispute
from apps.disputes.services import (
    dispute_accept,
    dispute_comment_add,
    dispute_reject,
    guard_no_open_disputes,
    open_disputes_fact,
)
from apps.periods import hooks
from apps.periods.models import BillingPeriod
from apps.statements.models import Adjustment, Statement, StatementLine
from apps.statements.selectors import statement_difference
from apps.statements.services import statements_finalise
from tests.factories.statements import set_state
from tests.statements.test_services import reopen_and_review

from .conftest import open_dispute, search_line

pytestmark = pytest.mark.django_db


def events(issued, prefix: str = "dispute.") -> list[tuple]:
    with scope(organization=issued.organization):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("seq")
            .values_list("action", "actor_label", "object_id")
        )


def accept(world, issued, dispute, amount: str = "4.00", to: str = "CC-1301", note: str = ""):
    return dispute_accept(
        dispute=dispute,
        actor=world.user("a", "finance_admin"),
        amount=Decimal(amount),
        recharge_owner=issued.owners[to],
        note=note,
    )


def test_the_approve_guard_is_registered():
    assert guard_no_open_disputes in hooks.guards_for("approve")


def test_a_budget_owner_opens_a_dispute_on_a_line(world, issued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(world, issued, evidence_url="https://tickets.example/SRCH-1")
    assert (dispute.status, dispute.amount_nano, dispute.currency) == ("open", 4_000_000_000, "USD")
    assert dispute.owner == issued.owners["CC-1101"]
    assert dispute.line == search_line(issued)
    assert dispute.billing_period_id == issued.billing_period.pk
    assert events(issued) == [("dispute.opened", "alpha-budget_owner", str(dispute.pk))]
    with scope(organization=issued.organization):
        event = AuditEvent.objects.get(action="dispute.opened")
    assert event.after == {
        "statement": "2026-10-CC-1101-v1",
        "line": 1,
        "owner": "CC-1101",
        "amount_nano": 4_000_000_000,
        "currency": "USD",
        "status": "open",
        "reason": "Half of these calls were the ads team's reranker tests.",
        "evidence_url": "https://tickets.example/SRCH-1",
    }
    # finance (admins and analysts) hears about it; owners, org admins and viewers do not
    [message] = mail.outbox
    assert message.subject == f"[Alpha Corp] Dispute #{dispute.pk} opened on 2026-10-CC-1101-v1"
    assert message.to == ["alpha-finance_admin@example.com", "alpha-finance_analyst@example.com"]
    assert "Amount disputed: 4.00 USD" in message.body
    assert "Evidence: https://tickets.example/SRCH-1" in message.body
    assert f"http://127.0.0.1:8000/o/alpha/disputes/{dispute.pk}/" in message.body


def test_the_whole_statement_can_be_disputed_up_to_its_total(world, issued):
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="16.12", line=False)
    assert excinfo.value.message_dict == {"amount": ["You can dispute at most 16.11 USD, the amount of the statement."]}
    dispute = open_dispute(world, issued, amount="16.11", line=False)
    assert dispute.line is None and dispute.amount_nano == 16_110_000_000
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="0.01", line=False, reason="Again.")
    assert excinfo.value.message_dict == {
        "amount": [
            "Nothing more can be disputed on the statement (0.00 USD left): 16.11 USD of its 16.11 USD is already "
            "disputed or credited."
        ]
    }


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("10.02", "You can dispute at most 10.01 USD, the amount of line 1."),
        ("0", "The amount must be more than zero."),
        ("-1", "The amount must be more than zero."),
        ("1.005", "USD amounts have at most 2 decimals."),
    ],
)
def test_the_disputed_amount_is_checked(world, issued, amount, message):
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount=amount)
    assert excinfo.value.message_dict == {"amount": [message]}
    with scope(organization=issued.organization):
        assert not Dispute.objects.exists()


def test_a_reason_is_required(world, issued):
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, reason="   ")
    assert excinfo.value.message_dict == {"reason": ["Say why the charge is wrong."]}


def test_a_line_of_another_statement_is_refused(world, issued):
    other = issued.statement("CC-1201")
    with scope(organization=issued.organization):
        foreign = other.lines.first()
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, line=foreign)
    assert excinfo.value.message_dict == {"line": ["That line is not on this statement."]}


@pytest.mark.parametrize("state", ["approved", "closed", "open"])
def test_disputes_are_opened_only_while_the_period_is_in_review(world, issued, state):
    set_state(issued.billing_period, state)
    with pytest.raises(ValidationError, match="2026-10-CC-1101-v1 is not in review"):
        open_dispute(world, issued)


def test_a_final_statement_cannot_be_disputed(world, issued):
    set_state(issued.billing_period, "closed")
    statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
    set_state(issued.billing_period, "in_review")  # even if the period were back in review
    with pytest.raises(ValidationError, match="is not in review"):
        open_dispute(world, issued)


def test_the_thread_takes_comments_while_open(world, issued):
    dispute = open_dispute(world, issued)
    dispute_comment_add(dispute=dispute, actor=world.user("a", "finance_analyst"), body="Which days?")
    dispute_comment_add(dispute=dispute, actor=world.user("a", "budget_owner"), body="14 and 15 October.")
    with scope(organization=issued.organization):
        assert list(dispute.comments.values_list("author_label", "body")) == [
            ("alpha-finance_analyst", "Which days?"),
            ("alpha-budget_owner", "14 and 15 October."),
        ]
    assert [e[0] for e in events(issued)] == ["dispute.opened", "dispute.commented", "dispute.commented"]
    with pytest.raises(ValidationError) as excinfo:
        dispute_comment_add(dispute=dispute, actor=world.user("a", "budget_owner"), body="")
    assert excinfo.value.message_dict == {"body": ["Write a comment first."]}
    dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="The tags are right.")
    with pytest.raises(ValidationError, match=f"Dispute #{dispute.pk} is rejected: its thread is closed."):
        dispute_comment_add(dispute=dispute, actor=world.user("a", "budget_owner"), body="But…")


def test_accepting_credits_the_owner_and_recharges_another_on_rebuilt_drafts(
    world, issued, django_capture_on_commit_callbacks
):
    line = search_line(issued)
    dispute = open_dispute(world, issued, amount="4.00")
    with scope(organization=issued.organization):
        line_ids = list(StatementLine.objects.filter(statement__owner__code="CC-1101").values_list("pk", flat=True))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = accept(world, issued, dispute, amount="3.50", note="Reranker tests confirmed.")
    assert (dispute.status, dispute.adjusted_nano) == ("accepted", 3_500_000_000)
    assert dispute.recharge_owner.code == "CC-1301"
    assert dispute.resolved_by == world.user("a", "finance_admin") and dispute.resolved_at is not None
    with scope(organization=issued.organization):
        adjustments = list(Adjustment.objects.order_by("kind").values_list("kind", "owner__code", "amount_nano"))
    assert adjustments == [("charge", "CC-1301", 3_500_000_000), ("credit", "CC-1101", -3_500_000_000)]

    # CC-1101's draft is rebuilt in place: same statement, same line rows (the dispute still points at its
    # line), plus the credit in the adjustments section
    search = issued.statement("CC-1101")
    assert (search.version, search.status, search.rebuilt_at is not None) == (1, "draft", True)
    assert search.adjustment_nano == -3_500_000_000
    assert (search.adjustment_amount, search.total_amount) == (Decimal("-3.50"), Decimal("12.61"))
    with scope(organization=issued.organization):
        lines = list(search.lines.order_by("position"))
    assert [line.pk for line in lines[:4]] == line_ids
    assert lines[4].section == "adjustment" and lines[4].position == 5
    assert lines[4].explanation == (
        f"Credit of 3.50 USD: dispute #{dispute.pk} on line 1 of 2026-10-CC-1101-v1 was accepted; "
        "CC-1301 Platform is charged instead."
    )
    assert lines[4].amount == Decimal("-3.50")
    assert search_line(issued).pk == line.pk
    # CC-1301 had no charge, so no statement: it gets a draft of the same version now
    platform = issued.statement("CC-1301")
    assert (platform.status, platform.total_amount, platform.line_count) == ("draft", Decimal("3.50"), 1)
    with scope(organization=issued.organization):
        [charge] = platform.lines.all()
    assert charge.explanation == (
        f"Re-charge of 3.50 USD from CC-1101 Search: dispute #{dispute.pk} on line 1 of 2026-10-CC-1101-v1 "
        "was accepted."
    )
    # the period still adds up: the pair nets to zero
    with scope(organization=issued.organization):
        assert sum(Statement.objects.values_list("total_nano", flat=True)) == 21_008_000_000
    with scope(organization=issued.organization):
        event = AuditEvent.objects.get(action="dispute.accepted")
    assert event.actor_label == "alpha-finance_admin"
    assert event.after["adjusted_nano"] == 3_500_000_000
    assert event.after["recharge_owner"] == "CC-1301"
    assert event.after["statements_rebuilt"] == ["2026-10-CC-1101-v1", "2026-10-CC-1301-v1"]
    # the opener is told the outcome
    [message] = mail.outbox
    assert message.to == ["alpha-budget_owner@example.com"]
    assert message.subject == f"[Alpha Corp] Dispute #{dispute.pk} accepted"
    assert "3.50 USD is credited to CC-1101 and charged to CC-1301 Platform." in message.body
    assert "Note: Reranker tests confirmed." in message.body


def test_an_accepted_dispute_is_on_the_final_version_and_again_on_the_next(world, issued):
    dispute = open_dispute(world, issued)
    accept(world, issued, dispute, amount="4.00", to="CC-1201")
    second = reopen_and_review(issued)
    assert [(s.owner_code, s.version, s.total_amount) for s in second] == [
        ("CC-1101", 2, Decimal("12.11")),
        ("CC-1201", 2, Decimal("8.55")),
        ("CC-1401", 2, Decimal("0.35")),
    ]
    v1, v2 = issued.statement("CC-1101", 1), issued.statement("CC-1101", 2)
    assert v1.status == "final" and v1.adjustment_amount == Decimal("-4.00")
    # a version is a full restatement: the adjustment is on it again, so the difference shows no change
    assert v2.adjustment_amount == Decimal("-4.00")
    assert statement_difference(statement=v2)[-1].difference == Decimal("0.00")


def test_accepted_while_the_period_is_closed_it_waits_for_the_next_version(world, issued):
    dispute = open_dispute(world, issued)
    set_state(issued.billing_period, BillingPeriod.State.CLOSED)
    statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
    accept(world, issued, dispute, amount="4.00", to="CC-1301")
    # nothing final was touched, no draft was made
    assert issued.statement("CC-1101").total_amount == Decimal("16.11")
    with scope(organization=issued.organization):
        assert not Statement.objects.filter(owner__code="CC-1301").exists()
    # and the adjustment appears on version 2 after a reopen
    set_state(issued.billing_period, BillingPeriod.State.CLOSED)
    reopen_and_review(issued)
    v2 = issued.statement("CC-1101", 2)
    assert (v2.adjustment_amount, v2.total_amount) == (Decimal("-4.00"), Decimal("12.11"))
    assert [(row.label, row.difference) for row in statement_difference(statement=v2)][-2:] == [
        ("Adjustments", Decimal("-4.00")),
        ("Total", Decimal("-4.00")),
    ]
    platform = issued.statement("CC-1301", 2)
    assert platform.total_amount == Decimal("4.00") and platform.supersedes is None


@pytest.mark.parametrize(
    ("amount", "to", "field", "message"),
    [
        (
            "4.01",
            "CC-1301",
            "amount",
            "Accept at most the disputed 4.00 USD; reject the dispute or accept a part of it.",
        ),
        ("0", "CC-1301", "amount", "The amount must be more than zero."),
        ("1.00", "CC-1101", "recharge_owner", "CC-1101 is the disputing cost centre: choose another one."),
        ("1.00", "CC-1901", "recharge_owner", "CC-1901 is inactive: choose an active one."),
    ],
)
def test_an_acceptance_is_checked(world, issued, amount, to, field, message):
    dispute = open_dispute(world, issued)
    with pytest.raises(ValidationError) as excinfo:
        accept(world, issued, dispute, amount=amount, to=to)
    assert excinfo.value.message_dict == {field: [message]}
    with scope(organization=issued.organization):
        assert Dispute.objects.get().status == "open"
        assert not Adjustment.objects.exists()


def test_a_recharge_owner_of_another_organisation_is_refused(world, issued):
    from tests.factories.owners import BudgetOwnerFactory

    dispute = open_dispute(world, issued)
    with scope(organization=world.org("b")):
        foreign = BudgetOwnerFactory(organization=world.org("b"), code="CC-1301")
    with pytest.raises(ValidationError) as excinfo:
        dispute_accept(dispute=dispute, actor=None, amount=Decimal("1"), recharge_owner=foreign)
    assert excinfo.value.message_dict == {"recharge_owner": ["Choose the cost centre that pays instead."]}


def test_rejecting_needs_a_reason_and_tells_the_opener(world, issued, django_capture_on_commit_callbacks):
    dispute = open_dispute(world, issued)
    with pytest.raises(ValidationError) as excinfo:
        dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason=" ")
    assert excinfo.value.message_dict == {"reason": ["Say why the dispute is rejected."]}
    with django_capture_on_commit_callbacks(execute=True):
        dispute = dispute_reject(
            dispute=dispute, actor=world.user("a", "finance_admin"), reason="The team tag on these calls is search."
        )
    assert (dispute.status, dispute.resolution_note, dispute.adjusted_nano) == (
        "rejected",
        "The team tag on these calls is search.",
        None,
    )
    assert issued.statement("CC-1101").total_amount == Decimal("16.11")
    assert [e[0] for e in events(issued)] == ["dispute.opened", "dispute.rejected"]
    with scope(organization=issued.organization):
        assert AuditEvent.objects.get(action="dispute.rejected").reason == "The team tag on these calls is search."
    [message] = mail.outbox
    assert (message.to, message.subject) == (
        ["alpha-budget_owner@example.com"],
        f"[Alpha Corp] Dispute #{dispute.pk} rejected",
    )
    assert "rejected it: The team tag on these calls is search." in message.body


def test_a_resolved_dispute_cannot_be_resolved_again(world, issued):
    dispute = open_dispute(world, issued)
    dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="No.")
    with pytest.raises(ValidationError, match=f"Dispute #{dispute.pk} is already rejected."):
        accept(world, issued, dispute)
    with pytest.raises(ValidationError, match=f"Dispute #{dispute.pk} is already rejected."):
        dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="No!")


def test_open_disputes_block_the_approval_with_a_count(world, issued):
    billing_period = issued.billing_period
    assert guard_no_open_disputes(billing_period=billing_period, actor=None) is None
    first = open_dispute(world, issued, amount="1.00")
    assert (
        guard_no_open_disputes(billing_period=billing_period, actor=None)
        == "1 dispute is still open: resolve it before approving."
    )
    second = open_dispute(world, issued, amount="2.00")
    assert (
        guard_no_open_disputes(billing_period=billing_period, actor=None)
        == "2 disputes are still open: resolve them before approving."
    )
    assert open_disputes_fact(organization=billing_period.organization, billing_periods=[billing_period]) == {
        billing_period.pk: 2
    }
    dispute_reject(dispute=first, actor=world.user("a", "finance_admin"), reason="No.")
    accept(world, issued, second, amount="1.00")
    assert guard_no_open_disputes(billing_period=billing_period, actor=None) is None
    assert open_disputes_fact(organization=billing_period.organization, billing_periods=[billing_period]) == {
        billing_period.pk: 0
    }


def test_another_organisations_disputes_do_not_block_approval(world, issued):
    from tests.statements.conftest import issue_october

    other = issue_october(world.org("b"))
    open_dispute(world, issued)
    assert guard_no_open_disputes(billing_period=other.billing_period, actor=None) is None


def test_open_disputes_are_a_column_of_the_periods_board(monkeypatch):
    from django.apps import apps

    registered = []
    monkeypatch.setattr(hooks, "register_period_fact", lambda label, fn: registered.append((label, fn)), raising=False)
    apps.get_app_config("disputes").ready()
    assert registered == [("Open disputes", open_disputes_fact)]
