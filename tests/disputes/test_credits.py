"""Credits never exceed the charge: what is open or credited on a line (and on a statement) stays within
what was charged, whatever the order of opening, rejecting, accepting in part, rebuilding and reopening;
a dispute opened twice is opened once; the refusals say how much is still disputable."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.disputes.models import Dispute
from apps.disputes.selectors import disputable_nano, line_room, statement_room
from apps.disputes.services import DuplicateSubmission, dispute_accept, dispute_reject
from apps.statements.models import Adjustment, StatementLine
from tests.factories.disputes import DisputeFactory
from tests.scenarios import open_dispute, reissued, search_line

pytestmark = pytest.mark.django_db

KEY = "5b0c6a55-7f52-4c1e-9a43-2f1d3c1b9e01"


def accept(world, issued, dispute, amount: str, to: str = "CC-1301"):
    return dispute_accept(
        dispute=dispute,
        actor=world.user("a", "finance_admin"),
        amount=Decimal(amount),
        recharge_owner=issued.owners[to],
    )


def reject(world, dispute):
    return dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="The tags are right.")


def refusal(excinfo) -> str:
    [message] = excinfo.value.message_dict["amount"]
    return message


def line_at(issued, position: int, code: str = "CC-1101", version: int = 1) -> StatementLine:
    statement = issued.statement(code, version)
    with scope(organization=issued.organization):
        return statement.lines.get(position=position)


def legacy_dispute(world, issued, amount_nano: int, line=None) -> Dispute:
    """An open dispute written before the check existed (the issue's four disputes of one line)."""
    statement = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        return DisputeFactory(
            statement=statement, line=line, amount_nano=amount_nano, opened_by=world.user("a", "budget_owner")
        )


def disputes(issued) -> list[tuple]:
    with scope(organization=issued.organization):
        return list(Dispute.objects.order_by("pk").values_list("status", "amount_nano", "adjusted_nano"))


def credits_nano(issued, owner_code: str = "CC-1101") -> int:
    with scope(organization=issued.organization):
        return sum(
            Adjustment.objects.filter(kind="credit", owner__code=owner_code).values_list("amount_nano", flat=True)
        )


def test_a_line_disputed_in_full_takes_no_second_dispute(world, issued):
    open_dispute(world, issued, amount="10.01")
    for amount in ("10.01", "0.01"):
        with pytest.raises(ValidationError) as excinfo:
            open_dispute(world, issued, amount=amount, reason=f"Once more, {amount}.")
        assert refusal(excinfo) == (
            "Nothing more can be disputed on line 1 (0.00 USD left): 10.01 USD of its 10.01 USD is already disputed "
            "or credited."
        )
    assert disputes(issued) == [("open", 10_010_000_000, None)]


def test_the_refusal_says_how_much_is_still_disputable(world, issued):
    open_dispute(world, issued, amount="4.00")
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="6.02", reason="The rest, and a cent.")
    assert refusal(excinfo) == (
        "You can dispute at most 6.01 USD more on line 1: 4.00 USD of its 10.01 USD is already disputed or credited."
    )
    open_dispute(world, issued, amount="6.01", reason="The rest.")
    assert sum(row[1] for row in disputes(issued)) == 10_010_000_000
    with scope(organization=issued.organization):
        assert line_room(line=search_line(issued)).left_nano == 0


def test_a_rejected_dispute_frees_its_amount(world, issued):
    first = open_dispute(world, issued, amount="10.01")
    reject(world, first)
    second = open_dispute(world, issued, amount="10.01")
    assert disputes(issued) == [("rejected", 10_010_000_000, None), ("open", 10_010_000_000, None)]
    assert second.status == "open"


def test_a_partly_accepted_dispute_frees_the_rest_and_keeps_the_credit(world, issued):
    dispute = open_dispute(world, issued, amount="4.00")
    accept(world, issued, dispute, amount="3.00")
    with scope(organization=issued.organization):
        assert line_room(line=search_line(issued)).left_nano == 7_010_000_000
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="7.02", reason="The rest of the line.")
    assert refusal(excinfo) == (
        "You can dispute at most 7.01 USD more on line 1: 3.00 USD of its 10.01 USD is already disputed or credited."
    )
    rest = open_dispute(world, issued, amount="7.01", reason="The rest of the line.")
    accept(world, issued, rest, amount="7.01")
    assert credits_nano(issued) == -10_010_000_000


def test_line_disputes_count_against_the_statement(world, issued):
    open_dispute(world, issued, amount="12.00", line=False, reason="Most of the month was the ads team.")
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="5.00")
    assert refusal(excinfo) == (
        "You can dispute at most 4.11 USD more on the statement: 12.00 USD of its 16.11 USD is already disputed "
        "or credited."
    )
    open_dispute(world, issued, amount="4.11", line=line_at(issued, 2))
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="0.33", line=line_at(issued, 3))
    assert refusal(excinfo) == (
        "Nothing more can be disputed on the statement (0.00 USD left): 16.11 USD of its 16.11 USD is already "
        "disputed or credited."
    )
    line_3 = line_at(issued, 3)
    with scope(organization=issued.organization):
        assert disputable_nano(statement=issued.statement("CC-1101"), line=line_3) == 0


def test_an_accepted_credit_on_the_rebuilt_draft_is_not_counted_twice(world, issued):
    dispute = open_dispute(world, issued, amount="4.00")
    accept(world, issued, dispute, amount="4.00")
    statement = issued.statement("CC-1101")
    assert (statement.total_amount, statement.adjustment_amount) == (Decimal("12.11"), Decimal("-4.00"))
    with scope(organization=issued.organization):
        room = statement_room(statement=statement)
    assert (room.charged_nano, room.claimed_nano, room.left_nano) == (16_110_000_000, 4_000_000_000, 12_110_000_000)
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="12.12", line=False)
    assert refusal(excinfo) == (
        "You can dispute at most 12.11 USD more on the statement: 4.00 USD of its 16.11 USD is already disputed or "
        "credited."
    )
    # the credit line itself is no charge
    credit_line = line_at(issued, 5)
    assert credit_line.amount == Decimal("-4.00")
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="1.00", line=credit_line)
    assert refusal(excinfo) == "Nothing is charged on line 5, so there is nothing to dispute."
    # the re-charge on the platform's statement is a charge like any other, up to its amount
    recharge = line_at(issued, 1, code="CC-1301")
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="4.01", line=recharge, statement=issued.statement("CC-1301"))
    assert refusal(excinfo) == "You can dispute at most 4.00 USD, the amount of line 1."


def test_credits_of_an_earlier_version_count_on_the_next(world, issued):
    dispute = open_dispute(world, issued, amount="4.00")
    accept(world, issued, dispute, amount="4.00", to="CC-1201")
    reissued(issued)
    v2 = issued.statement("CC-1101", 2)
    assert v2.total_amount == Decimal("12.11")
    line_1, line_2 = line_at(issued, 1, version=2), line_at(issued, 2, version=2)
    assert (line_1.amount, line_2.amount) == (Decimal("10.01"), Decimal("5.00"))
    open_dispute(world, issued, amount="10.01", line=line_1, statement=v2, reason="Version 2, line 1.")
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="5.00", line=line_2, statement=v2, reason="Version 2, line 2.")
    assert refusal(excinfo) == (
        "You can dispute at most 2.10 USD more on the statement: 14.01 USD of its 16.11 USD is already disputed or "
        "credited."
    )


def test_accepting_never_credits_more_than_the_line_even_for_disputes_opened_before_the_check(world, issued):
    line = search_line(issued)
    disputes_of_the_issue = [legacy_dispute(world, issued, 10_010_000_000, line) for _ in range(4)]
    accept(world, issued, disputes_of_the_issue[0], amount="10.01")
    for dispute in disputes_of_the_issue[1:]:
        with pytest.raises(ValidationError) as excinfo:
            accept(world, issued, dispute, amount="0.01")
        assert refusal(excinfo) == (
            "Nothing more can be credited on line 1 (0.00 USD left): 10.01 USD of its 10.01 USD is already credited "
            "by other disputes; reject this dispute."
        )
    assert [row[0] for row in disputes(issued)] == ["accepted", "open", "open", "open"]
    assert credits_nano(issued) == -10_010_000_000
    with scope(organization=issued.organization):
        assert Adjustment.objects.count() == 2
        assert AuditEvent.objects.filter(action="dispute.accepted").count() == 1


def test_accepting_never_credits_more_than_the_statement(world, issued):
    on_line = legacy_dispute(world, issued, 10_010_000_000, search_line(issued))
    on_statement = legacy_dispute(world, issued, 16_110_000_000)
    accept(world, issued, on_line, amount="10.01")
    with pytest.raises(ValidationError) as excinfo:
        accept(world, issued, on_statement, amount="16.11")
    assert refusal(excinfo) == (
        "Credit at most 6.10 USD on the statement: 10.01 USD of its 16.11 USD is already credited by other disputes."
    )
    accept(world, issued, on_statement, amount="6.10")
    assert credits_nano(issued) == -16_110_000_000
    statement = issued.statement("CC-1101")
    assert (statement.adjustment_amount, statement.total_amount) == (Decimal("-16.11"), Decimal("0.00"))


def test_the_same_form_submitted_twice_opens_one_dispute(world, issued, django_capture_on_commit_callbacks):
    first = open_dispute(world, issued, amount="4.00", submission_key=KEY)
    for amount, reason in (("4.00", "Half of these calls were the ads team's reranker tests."), ("2.00", "Edited.")):
        with pytest.raises(DuplicateSubmission) as excinfo:
            open_dispute(world, issued, amount=amount, reason=reason, submission_key=KEY)
        assert excinfo.value.dispute == first
        assert excinfo.value.messages == [
            f"Dispute #{first.pk} was already opened from this form: it was submitted twice."
        ]
    assert disputes(issued) == [("open", 4_000_000_000, None)]
    with scope(organization=issued.organization):
        assert AuditEvent.objects.filter(action="dispute.opened").count() == 1
    # the token is the opener's: another person's form with the same token is another form
    other = open_dispute(world, issued, amount="1.00", submission_key=KEY, actor=world.user("a", "finance_admin"))
    assert other.pk != first.pk


def test_the_same_dispute_opened_again_while_it_is_open_is_refused(world, issued):
    first = open_dispute(world, issued, amount="2.00")
    with pytest.raises(DuplicateSubmission) as excinfo:
        open_dispute(world, issued, amount="2.00")
    assert excinfo.value.messages == [
        f"You already opened dispute #{first.pk} for 2.00 USD on line 1 with the same reason, and it is still open."
    ]
    # another amount or another reason is another dispute; once the first is resolved it may be raised again
    open_dispute(world, issued, amount="2.00", reason="And the ads team's load test.")
    reject(world, first)
    open_dispute(world, issued, amount="2.00")
    assert [row[0] for row in disputes(issued)] == ["rejected", "open", "open"]


def test_a_submission_token_is_unique_per_opener_in_the_database(world, issued):
    first = open_dispute(world, issued, amount="1.00", submission_key=KEY)
    with scope(organization=issued.organization), pytest.raises(IntegrityError), transaction.atomic():
        DisputeFactory(
            statement=first.statement,
            line=first.line,
            amount_nano=1_000_000_000,
            reason="Sneaked in.",
            opened_by=first.opened_by,
            submission_key=KEY,
        )


def test_an_adjustment_side_is_written_once_per_dispute(world, issued):
    dispute = accept(world, issued, open_dispute(world, issued, amount="1.00"), amount="1.00")
    with scope(organization=issued.organization), pytest.raises(IntegrityError), transaction.atomic():
        Adjustment.objects.create(
            organization=issued.organization,
            dispute_id=dispute.pk,
            billing_period=issued.billing_period,
            owner=dispute.owner,
            kind="credit",
            amount_nano=-1_000_000_000,
            description="A second credit.",
        )


def test_an_amount_of_any_size_is_refused_with_a_message(world, issued):
    with pytest.raises(ValidationError) as excinfo:
        open_dispute(world, issued, amount="1E+30")
    assert refusal(excinfo) == "You can dispute at most 10.01 USD, the amount of line 1."
    dispute = open_dispute(world, issued, amount="1.00")
    with pytest.raises(ValidationError) as excinfo:
        accept(world, issued, dispute, amount="1E+30")
    assert refusal(excinfo) == "Accept at most the disputed 1.00 USD; reject the dispute or accept a part of it."


@pytest.mark.parametrize("amount_nano", [0, -1_000_000_000])
def test_a_dispute_of_nothing_or_less_is_refused_by_the_database(world, issued, amount_nano):
    with pytest.raises(IntegrityError), transaction.atomic():
        legacy_dispute(world, issued, amount_nano, search_line(issued))
