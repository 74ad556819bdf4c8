"""The base currency is fixed once money was written in it: each floor's settings guard counts its own rows
(budgets, reconciliation runs, allocation runs, statements) and refuses with the count; another organisation's
rows never count."""

import datetime
from decimal import Decimal

from django_scopes import scope

from apps.allocation.guards import allocation_runs_fix_base_currency, reconciliation_runs_fix_base_currency
from apps.owners.guards import budgets_fix_base_currency
from apps.statements.guards import statements_fix_base_currency
from apps.tenancy.hooks import settings_guards_for
from tests import scenarios
from tests.factories.owners import BudgetFactory

GUARDS = [
    budgets_fix_base_currency,
    reconciliation_runs_fix_base_currency,
    allocation_runs_fix_base_currency,
    statements_fix_base_currency,
]
TAIL = "Nothing is re-converted; open a new organisation for another base currency."


def _messages(organization):
    with scope(organization=organization):
        return [guard(organization=organization) for guard in GUARDS]


def test_every_floor_registers_its_guard_on_the_base_currency():
    registered = settings_guards_for("base_currency")
    assert all(guard in registered for guard in GUARDS)
    # lower floors first (the apps' order): budgets answer before runs and statements
    assert sorted(GUARDS, key=registered.index) == GUARDS


def test_nothing_written_nothing_refused(world):
    assert _messages(world.org("a")) == [None, None, None, None]


def test_each_guard_counts_its_rows_in_its_own_organisation_only(world):
    a, b = world.org("a"), world.org("b")
    issued = scenarios.issued(a, world.user("a", "finance_analyst"))
    scenarios.reconciled(a, datetime.date(2026, 9, 1))
    with scope(organization=a):
        for code in ("CC-1101", "CC-1201"):
            BudgetFactory(organization=a, owner=issued.owners[code], amount=Decimal("20.00"))
    name = a.name
    assert _messages(a) == [
        f"The base currency of {name}, USD, is fixed: 2 budgets are in USD. {TAIL}",
        f"The base currency of {name}, USD, is fixed: 1 reconciliation run is in USD. {TAIL}",
        f"The base currency of {name}, USD, is fixed: 1 allocation run is in USD. {TAIL}",
        f"The base currency of {name}, USD, is fixed: 3 statements are in USD. {TAIL}",
    ]
    assert _messages(b) == [None, None, None, None]
