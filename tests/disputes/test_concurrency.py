"""Two requests at the same moment, on two database connections (PostgreSQL), cannot both take the same
room on a line: two disputes that together exceed the line, the same form submitted twice, two acceptances
that together would credit more than the line. Exactly one passes each time."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.disputes.models import Dispute
from apps.disputes.services import DuplicateSubmission, dispute_accept
from apps.statements.models import Adjustment
from apps.tenancy.roles import Role
from tests.factories.disputes import DisputeFactory
from tests.scenarios import open_dispute, search_line, second_finance_admin
from tests.test_celery_worker import _skip

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "0d7f3f4e-2c55-4e0b-8d0f-6f1c2a9b7e11"


@pytest.fixture(autouse=True)
def postgresql_only():
    # Before any fixture writes: on SQLite the flush after a transactional test cannot delete audit events.
    if connection.vendor != "postgresql":
        _skip("concurrent disputes need two real connections to one database: set DATABASE_URL to PostgreSQL")


def race(*actions) -> list:
    """Run the actions at once, each on its own connection; what each returned or the error it raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index: int, action) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action()
        except Exception as exc:  # kept: a thread's exception would otherwise vanish
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def split(outcomes: list) -> tuple[list, list]:
    passed = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    return passed, refused


def test_two_disputes_that_together_exceed_the_line_let_exactly_one_through(world, issued):
    line = search_line(issued)
    passed, refused = split(
        race(
            lambda: open_dispute(world, issued, amount="6.00", line=line, reason="The ads team's tests."),
            lambda: open_dispute(world, issued, amount="6.00", line=line, reason="The relevance team's evals."),
        )
    )
    assert len(passed) == 1 and [type(exc) for exc in refused] == [ValidationError]
    assert refused[0].message_dict == {
        "amount": [
            "You can dispute at most 4.01 USD more on line 1: 6.00 USD of its 10.01 USD is already disputed or "
            "credited."
        ]
    }
    with scope(organization=issued.organization):
        assert list(Dispute.objects.values_list("pk", "amount_nano")) == [(passed[0].pk, 6_000_000_000)]
        assert AuditEvent.objects.filter(action="dispute.opened").count() == 1


def test_one_form_submitted_twice_at_once_opens_one_dispute(world, issued):
    passed, refused = split(
        race(
            lambda: open_dispute(world, issued, amount="2.00", submission_key=KEY),
            lambda: open_dispute(world, issued, amount="2.00", submission_key=KEY),
        )
    )
    assert len(passed) == 1 and [type(exc) for exc in refused] == [DuplicateSubmission]
    assert refused[0].dispute.pk == passed[0].pk
    assert refused[0].messages == [
        f"Dispute #{passed[0].pk} was already opened from this form: it was submitted twice."
    ]
    with scope(organization=issued.organization):
        assert Dispute.objects.count() == 1


def test_two_acceptances_that_together_exceed_the_line_let_exactly_one_through(world, issued):
    line = search_line(issued)
    statement = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        platform = issued.owners["CC-1301"]
        # two disputes of the whole line, written before the check existed (the case)
        disputes = [
            DisputeFactory(
                statement=statement,
                line=line,
                amount_nano=10_010_000_000,
                reason=f"Twice ({n}).",
                opened_by=world.user("a", "budget_owner"),
            )
            for n in (1, 2)
        ]
    admins = [world.user("a", Role.FINANCE_ADMIN), second_finance_admin(world)]
    passed, refused = split(
        race(
            *[
                lambda dispute=dispute, admin=admin: dispute_accept(
                    dispute=dispute, actor=admin, amount=Decimal("10.01"), recharge_owner=platform
                )
                for dispute, admin in zip(disputes, admins, strict=True)
            ]
        )
    )
    assert len(passed) == 1 and [type(exc) for exc in refused] == [ValidationError]
    assert refused[0].message_dict == {
        "amount": [
            "Nothing more can be credited on line 1 (0.00 USD left): 10.01 USD of its 10.01 USD is already "
            "credited by other disputes; reject this dispute."
        ]
    }
    with scope(organization=issued.organization):
        assert sorted(Dispute.objects.values_list("status", flat=True)) == ["accepted", "open"]
        assert sorted(Adjustment.objects.values_list("kind", "amount_nano")) == [
            ("charge", 10_010_000_000),
            ("credit", -10_010_000_000),
        ]
    assert issued.statement("CC-1101").adjustment_amount == Decimal("-10.01")
