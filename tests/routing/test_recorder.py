"""The statement log sees what the application sends: ORM queries, raw cursor SQL, other threads; and the
session's log (the plugin, on PostgreSQL) attributes them to the test that sent them."""

import os
import threading

import pytest
from django.db import connection, connections
from django_scopes import scope

from apps.owners.models import Budget
from tests.factories.owners import BudgetFactory, BudgetOwnerFactory
from tests.routing import checker, plugin
from tests.routing.recorder import StatementLog, tenant_tables

pytestmark = pytest.mark.django_db(transaction=False)


def _select_related_budgets(organization):
    with scope(organization=organization):
        return list(Budget.objects.select_related("owner").filter(organization=organization))


@pytest.fixture
def budget(world):
    organization = world.org("a")
    with scope(organization=organization):
        owner = BudgetOwnerFactory(organization=organization)
        return BudgetFactory(organization=organization, owner=owner)


@pytest.fixture
def log():
    statements = StatementLog()
    statements.install()
    statements.origin = "this test"
    yield statements
    statements.uninstall()


def _joins_of_budget_to_owner(texts):
    return [sql for sql in texts if sql.startswith("SELECT") and 'JOIN "owners_budgetowner"' in sql]


def test_a_select_related_is_recorded_with_its_organisation_join_and_routes(log, budget):
    assert [b.owner.pk for b in _select_related_budgets(budget.organization)] == [budget.owner_id]
    [sql] = _joins_of_budget_to_owner(log.texts())
    assert '"owners_budget"."organization_id" = ("owners_budgetowner"."organization_id")' in sql
    checked, _exempt = tenant_tables()
    assert checker.check(sql, checked) == []
    assert log.statements()[sql][2] == "this test"


def test_raw_cursor_sql_and_other_threads_are_recorded(log, budget):
    raw = 'SELECT "owners_budget"."id" FROM "owners_budget" WHERE "owners_budget"."organization_id" = %s'
    with connection.cursor() as cursor:
        cursor.execute(raw, [budget.organization_id])
        assert cursor.fetchall() == [(budget.pk,)]

    thread_sql = "SELECT %s + 1"  # no table: SQLite's in-memory test database is locked by the test's writes
    answers = []

    def in_a_thread():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute(thread_sql, [budget.organization_id])
                answers.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert answers == [budget.organization_id + 1]
    assert {raw, thread_sql} <= set(log.texts())


def test_nothing_is_recorded_without_an_origin_or_while_paused(log, budget):
    log.origin = None
    _select_related_budgets(budget.organization)
    log.origin = "this test"
    log.paused += 1
    _select_related_budgets(budget.organization)
    log.paused -= 1
    assert _joins_of_budget_to_owner(log.texts()) == []


def test_the_session_log_is_on_exactly_on_postgresql(request, budget):
    session_log = plugin.active_log()
    assert (session_log is not None) == plugin.wanted()
    if session_log is None:
        # off: the rules are about PostgreSQL (and Citus), so on SQLite; or ROUTING_CHECK=off
        assert connection.vendor != "postgresql" or os.environ.get("ROUTING_CHECK", "").lower() in plugin.OFF
        return
    # a statement no other test sends: two hops, the second a LEFT OUTER JOIN (the parent may be null)
    with scope(organization=budget.organization):
        budgets = list(Budget.objects.select_related("owner__parent").filter(organization=budget.organization))
    assert [b.owner.parent for b in budgets] == [None]
    mine = [sql for sql, entry in session_log.statements().items() if entry[2] == request.node.nodeid]
    [sql] = [sql for sql in _joins_of_budget_to_owner(mine) if "LEFT OUTER JOIN" in sql]
    assert (
        'LEFT OUTER JOIN "owners_budgetowner" T4 ON ("owners_budgetowner"."parent_id" = T4."id" '
        'AND ("owners_budgetowner"."organization_id" = (T4."organization_id")))'
    ) in sql
    checked, _exempt = tenant_tables()
    assert checker.check(sql, checked) == []
