"""A final statement and its lines never change: the model refuses, and so does the database (SQLite and
PostgreSQL triggers) for raw SQL. Drafts stay editable, and closing (draft → final) passes."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django_scopes import scope

from apps.periods.models import BillingPeriod
from apps.statements.models import FinalStatementError, Statement, StatementLine
from apps.statements.services import statements_finalise
from tests.dbchecks import trigger_refusal_classes
from tests.factories.periods import set_state

pytestmark = pytest.mark.django_db


def _sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _close(issued) -> Statement:
    set_state(issued.billing_period, BillingPeriod.State.CLOSED)
    statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
    return issued.statement("CC-1101")


def test_a_final_statement_refuses_changes_in_the_model(issued):
    statement = _close(issued)
    with scope(organization=issued.organization):
        statement.total_amount = 0
        with pytest.raises(FinalStatementError, match="2026-10-CC-1101-v1 is final and cannot be changed"):
            statement.save()
        with pytest.raises(FinalStatementError, match="2026-10-CC-1101-v1 is final and cannot be deleted"):
            statement.delete()
        line = statement.lines.first()
        line.amount_nano = 1
        with pytest.raises(FinalStatementError, match="lines of a final statement cannot be changed"):
            line.save()
        with pytest.raises(FinalStatementError, match="lines of a final statement cannot be deleted"):
            line.delete()
        extra = StatementLine(
            organization=issued.organization,
            statement=statement,
            position=99,
            section="direct",
            source_key="alloc:x",
            allocation_line_id=line.allocation_line_id,
            explanation="forged",
            amount_nano=1,
            amount=0,
        )
        with pytest.raises(FinalStatementError):
            extra.save()
    assert issued.statement("CC-1101").total_amount == Decimal("16.11")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE statements_statement SET total_nano = 0, direct_nano = 0, shared_nano = 0, true_up_nano = 0 "
        "WHERE id = %s",
        "UPDATE statements_statement SET status = 'draft', finalised_at = NULL WHERE id = %s",
        "DELETE FROM statements_statement WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_a_final_statement(issued, sql):
    statement = _close(issued)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        _sql(sql, [statement.pk])
    fresh = issued.statement("CC-1101")
    assert (fresh.status, fresh.total_nano) == ("final", 16_107_043_317)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE statements_statementline SET amount_nano = 0 WHERE statement_id = %s",
        "DELETE FROM statements_statementline WHERE statement_id = %s",
        "INSERT INTO statements_statementline (organization_id, statement_id, position, section, source_key, "
        "allocation_line_id, adjustment_id, feature, provider, model, cost_source, rule_name, method, share, "
        "explanation, match_tags, amount_nano, amount) SELECT organization_id, statement_id, 99, section, 'forged', "
        "allocation_line_id, NULL, '', '', '', '', '', '', 0, 'forged', '{}', 1, 0 FROM statements_statementline "
        "WHERE statement_id = %s AND position = 1",
    ],
)
def test_the_database_refuses_to_change_the_lines_of_a_final_statement(issued, sql):
    statement = _close(issued)
    with pytest.raises(trigger_refusal_classes(), match="immutable"), transaction.atomic():
        _sql(sql, [statement.pk])
    with scope(organization=issued.organization):
        assert list(statement.lines.values_list("amount_nano", flat=True)) == [
            10_004_000_000,
            5_003_000_000,
            333_333_334,
            766_709_983,
        ]


def test_drafts_stay_editable_in_sql_and_closing_flips_them(issued):
    draft = issued.statement("CC-1101")
    _sql("UPDATE statements_statementline SET explanation = 'edited' WHERE statement_id = %s", [draft.pk])
    _sql("UPDATE statements_statement SET issued_by_label = 'edited' WHERE id = %s", [draft.pk])
    assert issued.statement("CC-1101").issued_by_label == "edited"
    # the close is the UPDATE of a draft row: allowed once, and from then on nothing passes
    final = _close(issued)
    assert final.status == "final"
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("UPDATE statements_statement SET issued_by_label = 'again' WHERE id = %s", [final.pk])


def test_a_draft_can_be_deleted_with_its_lines(issued):
    draft = issued.statement("CC-1401")
    with scope(organization=issued.organization):
        draft.delete()
        assert not StatementLine.objects.filter(statement_id=draft.pk).exists()


def test_deleting_a_final_statement_through_the_queryset_is_stopped_by_the_database(issued):
    _close(issued)
    with scope(organization=issued.organization):
        with pytest.raises(IntegrityError), transaction.atomic():
            Statement.objects.filter(owner__code="CC-1401").delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            Statement.objects.filter(owner__code="CC-1401").update(total_nano=0, shared_nano=0, true_up_nano=0)
        assert Statement.objects.count() == 3


def test_triggers_exist_on_this_database():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'statements_%%' AND NOT tgisinternal ORDER BY tgname"
            )
            assert [row[0] for row in cursor.fetchall()] == [
                "statements_statement_final_immutable",
                "statements_statementline_final_immutable",
            ]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'statements_%' ORDER BY name"
            )
            assert [row[0] for row in cursor.fetchall()] == [
                "statements_statement_final_no_delete",
                "statements_statement_final_no_update",
                "statements_statementline_final_no_delete",
                "statements_statementline_final_no_insert",
                "statements_statementline_final_no_update",
            ]
