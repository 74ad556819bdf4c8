"""Two finance admins approve the same period at the same moment, on two database connections
(PostgreSQL): exactly one succeeds, the other is told the period moved on, one audit event is written."""

import threading

import pytest
from django.db import connection, connections
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods.models import BillingPeriod
from apps.periods.services import WrongState, period_transition
from apps.tenancy.roles import Role
from tests.scenarios import OCT, TO_IN_REVIEW, chargeback, reconciled, second_finance_admin, walk
from tests.test_celery_worker import _skip

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_admins_approving_at_once_let_exactly_one_through(world):
    if connection.vendor != "postgresql":
        _skip("concurrent approval needs two real connections to one database: set DATABASE_URL to PostgreSQL")
    organization = chargeback(world.org("a"))
    reconciled(organization)
    walk(world, *TO_IN_REVIEW)
    approvers = [world.user("a", Role.FINANCE_ADMIN), second_finance_admin(world)]
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def approve(user) -> None:
        try:
            barrier.wait(timeout=30)
            period_transition(organization=organization, period=OCT, transition="approve", actor=user)
            outcomes[user.username] = "approved"
        except WrongState as refused:
            outcomes[user.username] = refused.messages
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(map(str, outcomes.values())) == [
        "['2026-10 is approved: Approve needs a period that is in review.']",
        "approved",
    ]
    winner = next(name for name, outcome in outcomes.items() if outcome == "approved")
    with scope(organization=organization):
        billing_period = BillingPeriod.objects.get(period=OCT)
        assert (billing_period.state, billing_period.approved_by_label) == ("approved", winner)
        approvals = AuditEvent.objects.filter(action="billing_period.approve", object_id=str(billing_period.pk))
        assert [event.actor_label for event in approvals] == [winner]
