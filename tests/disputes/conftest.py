from decimal import Decimal

import pytest
from django_scopes import scope

from apps.disputes.services import dispute_open
from apps.statements.models import StatementLine
from tests.statements.conftest import Issued, issue_october


@pytest.fixture
def issued(world) -> Issued:
    """October issued in org "a"; the budget-owner member owns CC-1101 (Search)."""
    issued = issue_october(world.org("a"), world.user("a", "finance_analyst"))
    with scope(organization=issued.organization):
        issued.owners["CC-1101"].owner_users.add(world.user("a", "budget_owner"))
    return issued


def search_line(issued, section: str = "direct", cost_source: str = "input") -> StatementLine:
    statement = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        return StatementLine.objects.get(statement=statement, section=section, cost_source=cost_source)


def open_dispute(world, issued, amount: str = "4.00", line=None, **extra):
    """By default: the budget owner disputes ``amount`` of line 1 of CC-1101's statement (``line=False``: the
    whole statement)."""
    statement = extra.pop("statement", None) or issued.statement("CC-1101")
    return dispute_open(
        statement=statement,
        line=search_line(issued) if line is None else line or None,
        actor=extra.pop("actor", None) or world.user("a", "budget_owner"),
        amount=Decimal(amount),
        reason=extra.pop("reason", "Half of these calls were the ads team's reranker tests."),
        **extra,
    )
