"""The routing checker on real SQL text: what a database distributed by organisation can and cannot route.

Pure (no database): runs on SQLite and PostgreSQL alike. The statements are written as Django writes them
(double-quoted names, ``%s`` placeholders, ``U0`` aliases in subqueries).
"""

import pytest

from apps.tenancy import keys
from tests.routing import checker, recorder
from tests.routing.checker import Offence, Unparsed, check

TENANT = frozenset(
    {"owners_budgetowner", "owners_budget", "statements_statement", "statements_statementline", "tenancy_membership"}
)

BUDGET_WITH_OWNER = (
    'SELECT "owners_budget"."id", "owners_budgetowner"."name" FROM "owners_budget" '
    'INNER JOIN "owners_budgetowner" ON ("owners_budget"."owner_id" = "owners_budgetowner"."id"{extra}) '
    'WHERE "owners_budget"."organization_id" = %s'
)
ORG_EQUAL = ' AND ("owners_budgetowner"."organization_id" = ("owners_budget"."organization_id"))'


def rules(sql, tenant=TENANT):
    return [offence.rule for offence in check(sql, tenant)]


# --- joins ---------------------------------------------------------------------------------------------------


def test_a_join_with_the_organisation_in_its_on_routes():
    assert check(BUDGET_WITH_OWNER.format(extra=ORG_EQUAL), TENANT) == []


def test_a_join_without_the_organisation_is_flagged_by_table():
    assert check(BUDGET_WITH_OWNER.format(extra=""), TENANT) == [
        Offence("join", "owners_budget INNER JOIN owners_budgetowner")
    ]


def test_the_equality_either_way_round_and_without_parentheses_counts():
    extra = ' AND "owners_budget"."organization_id" = "owners_budgetowner"."organization_id"'
    assert check(BUDGET_WITH_OWNER.format(extra=extra), TENANT) == []


def test_an_organisation_filter_in_the_where_does_not_stand_for_the_join_condition():
    sql = BUDGET_WITH_OWNER.format(extra="") + ' AND "owners_budgetowner"."organization_id" = %s'
    assert rules(sql) == ["join"]


def test_an_equality_inside_an_or_does_not_route():
    extra = (
        ' AND ("owners_budgetowner"."organization_id" = "owners_budget"."organization_id" OR "owners_budget"."id" > %s)'
    )
    assert rules(BUDGET_WITH_OWNER.format(extra=extra)) == ["join"]


def test_left_outer_join_from_select_related_of_a_nullable_relation():
    sql = (
        'SELECT "owners_budgetowner"."id", T2."name" FROM "owners_budgetowner" '
        'LEFT OUTER JOIN "owners_budgetowner" T2 ON ("owners_budgetowner"."parent_id" = T2."id"{extra}) '
        'WHERE "owners_budgetowner"."organization_id" = %s'
    )
    assert check(sql.format(extra=""), TENANT) == [
        Offence("join", "owners_budgetowner LEFT OUTER JOIN owners_budgetowner")
    ]
    with_org = ' AND (T2."organization_id" = ("owners_budgetowner"."organization_id"))'
    assert check(sql.format(extra=with_org), TENANT) == []


def test_multi_hop_join_needs_the_organisation_at_every_hop():
    sql = (
        'SELECT "statements_statementline"."id" FROM "statements_statementline" '
        'INNER JOIN "statements_statement" ON ("statements_statementline"."statement_id" = "statements_statement"."id" '
        'AND ("statements_statement"."organization_id" = ("statements_statementline"."organization_id"))) '
        'INNER JOIN "owners_budgetowner" ON ("statements_statement"."owner_id" = "owners_budgetowner"."id"{extra})'
    )
    assert check(sql.format(extra=""), TENANT) == [
        Offence("join", "statements_statementline, statements_statement INNER JOIN owners_budgetowner")
    ]
    second_hop = ' AND ("owners_budgetowner"."organization_id" = ("statements_statement"."organization_id"))'
    assert check(sql.format(extra=second_hop), TENANT) == []
    # any table already joined will do: the organisation is one value along the whole chain
    to_first = ' AND ("owners_budgetowner"."organization_id" = ("statements_statementline"."organization_id"))'
    assert check(sql.format(extra=to_first), TENANT) == []


def test_joins_to_global_tables_are_free():
    sql = (
        'SELECT "tenancy_membership"."id", "auth_user"."username", "tenancy_organization"."slug" '
        'FROM "tenancy_membership" '
        'INNER JOIN "auth_user" ON ("tenancy_membership"."user_id" = "auth_user"."id") '
        'INNER JOIN "tenancy_organization" ON ("tenancy_membership"."organization_id" = "tenancy_organization"."id") '
        'WHERE "auth_user"."id" = %s'
    )
    assert check(sql, TENANT) == []


def test_two_tenant_tables_meeting_only_through_a_global_table_are_flagged():
    sql = (
        'SELECT 1 FROM "tenancy_membership" '
        'INNER JOIN "auth_user" ON ("tenancy_membership"."user_id" = "auth_user"."id") '
        'INNER JOIN "owners_budgetowner" ON ("owners_budgetowner"."created_by_id" = "auth_user"."id")'
    )
    assert check(sql, TENANT) == [Offence("join", "tenancy_membership INNER JOIN owners_budgetowner")]


def test_comma_join_may_carry_the_organisation_in_the_where():
    sql = "SELECT 1 FROM owners_budget b, owners_budgetowner o WHERE b.owner_id = o.id{extra}"
    assert rules(sql.format(extra="")) == ["join"]
    assert check(sql.format(extra=" AND o.organization_id = b.organization_id"), TENANT) == []


def test_join_using_the_organisation_routes():
    sql = "SELECT 1 FROM owners_budget b JOIN owners_budgetowner o USING (organization_id) WHERE b.owner_id = o.id"
    assert check(sql, TENANT) == []


def test_a_join_to_a_derived_table_over_tenant_rows_needs_the_organisation():
    sql = (
        'SELECT 1 FROM "owners_budgetowner" INNER JOIN (SELECT U0."owner_id", U0."organization_id" '
        'FROM "owners_budget" U0 GROUP BY 1, 2) s ON (s."owner_id" = "owners_budgetowner"."id"{extra})'
    )
    assert rules(sql.format(extra="")) == ["join"]
    assert check(sql.format(extra=' AND s."organization_id" = "owners_budgetowner"."organization_id"'), TENANT) == []


# --- subqueries ----------------------------------------------------------------------------------------------


def test_correlated_subquery_without_the_organisation_is_flagged():
    sql = (
        'SELECT "owners_budgetowner"."id" FROM "owners_budgetowner" WHERE NOT (EXISTS(SELECT 1 AS "a" '
        'FROM "owners_budget" U1 WHERE (U1."amount_nano" > %s AND U1."owner_id" = ("owners_budgetowner"."id"){extra}) '
        'LIMIT 1)) AND "owners_budgetowner"."organization_id" = %s'
    )
    assert check(sql.format(extra=""), TENANT) == [
        Offence("correlated subquery", "owners_budget correlated to owners_budgetowner")
    ]
    with_org = ' AND U1."organization_id" = ("owners_budgetowner"."organization_id")'
    assert check(sql.format(extra=with_org), TENANT) == []


def test_subquery_annotation_correlated_in_the_select_list():
    sql = (
        'SELECT "statements_statement"."id", (SELECT SUM(U0."amount_nano") FROM "statements_statementline" U0 '
        'WHERE U0."statement_id" = ("statements_statement"."id"){extra}) AS "total" FROM "statements_statement" '
        'WHERE "statements_statement"."organization_id" = %s'
    )
    assert rules(sql.format(extra="")) == ["correlated subquery"]
    with_org = ' AND U0."organization_id" = ("statements_statement"."organization_id")'
    assert check(sql.format(extra=with_org), TENANT) == []


def test_uncorrelated_in_subquery_routes():
    sql = (
        'SELECT "owners_budget"."id" FROM "owners_budget" WHERE "owners_budget"."owner_id" IN '
        '(SELECT U0."id" FROM "owners_budgetowner" U0 WHERE U0."organization_id" = %s)'
    )
    assert check(sql, TENANT) == []


def test_subquery_over_global_tables_correlated_to_a_tenant_row_is_free():
    sql = (
        'SELECT "tenancy_membership"."id" FROM "tenancy_membership" WHERE EXISTS(SELECT 1 FROM "auth_user" U0 '
        'WHERE U0."id" = ("tenancy_membership"."user_id") AND U0."is_active")'
    )
    assert check(sql, TENANT) == []


# --- writes --------------------------------------------------------------------------------------------------


def test_update_that_sets_the_organisation_is_flagged():
    sql = 'UPDATE "owners_budget" SET "organization_id" = %s, "amount_nano" = %s WHERE "owners_budget"."id" = %s'
    assert check(sql, TENANT) == [Offence("update sets organization_id", "owners_budget")]


def test_update_routed_by_organisation_passes():
    sql = (
        'UPDATE "owners_budget" SET "amount_nano" = %s '
        'WHERE ("owners_budget"."id" = %s AND "owners_budget"."organization_id" = %s)'
    )
    assert check(sql, TENANT) == []


def test_update_of_a_global_table_may_set_a_column_named_organization_id():
    assert check('UPDATE "accounts_invitation" SET "organization_id" = %s WHERE "id" = %s', TENANT) == []


def test_upsert_that_rewrites_the_organisation_is_flagged():
    sql = (
        'INSERT INTO "owners_budget" ("organization_id", "owner_id", "period", "amount_nano") VALUES (%s, %s, %s, %s), '
        '(%s, %s, %s, %s) ON CONFLICT ("organization_id", "owner_id", "period") DO UPDATE SET {sets}'
    )
    assert check(sql.format(sets='"amount_nano" = EXCLUDED."amount_nano"'), TENANT) == []
    assert check(sql.format(sets='"organization_id" = EXCLUDED."organization_id"'), TENANT) == [
        Offence("update sets organization_id", "owners_budget (ON CONFLICT DO UPDATE)")
    ]


# --- row locks -----------------------------------------------------------------------------------------------


def test_for_update_by_pk_alone_is_flagged():
    sql = 'SELECT "owners_budget"."id" FROM "owners_budget" WHERE "owners_budget"."id" = %s LIMIT 21 FOR UPDATE'
    assert check(sql, TENANT) == [
        Offence("row lock", "FOR UPDATE/SHARE of owners_budget without organization_id = <value>")
    ]


def test_for_update_with_the_organisation_routes():
    sql = (
        'SELECT "owners_budget"."id" FROM "owners_budget" '
        'WHERE ("owners_budget"."organization_id" = %s AND "owners_budget"."id" = %s) LIMIT 21 FOR UPDATE'
    )
    assert check(sql, TENANT) == []


def test_for_share_of_self_with_the_organisation_pinned_through_the_join():
    sql = (
        'SELECT "owners_budgetowner"."id" FROM "owners_budgetowner" LEFT OUTER JOIN "owners_budgetowner" T2 '
        'ON ("owners_budgetowner"."parent_id" = T2."id" '
        'AND (T2."organization_id" = ("owners_budgetowner"."organization_id"))) '
        'WHERE (T2."organization_id" = %s AND "owners_budgetowner"."id" = %s) FOR SHARE OF "owners_budgetowner"'
    )
    assert check(sql, TENANT) == []


def test_an_organisation_compared_with_a_column_or_in_an_or_does_not_pin_a_lock():
    sql = (
        'SELECT "owners_budget"."id" FROM "owners_budget" WHERE ("owners_budget"."organization_id" = %s '
        'OR "owners_budget"."id" = %s) FOR UPDATE'
    )
    assert rules(sql) == ["row lock"]
    sql = 'SELECT 1 FROM "owners_budget" WHERE "owners_budget"."organization_id" = "owners_budget"."id" FOR UPDATE'
    assert rules(sql) == ["row lock"]


def test_lock_of_a_global_row_is_not_a_tenant_lock():
    sql = (
        'SELECT "tenancy_organization"."id" FROM "tenancy_organization" '
        'INNER JOIN "owners_budget" ON ("owners_budget"."organization_id" = "tenancy_organization"."id") '
        'WHERE "tenancy_organization"."id" = %s FOR UPDATE OF "tenancy_organization"'
    )
    assert check(sql, TENANT) == []
    assert check(sql.replace(' OF "tenancy_organization"', ""), TENANT) == [
        Offence("row lock", "FOR UPDATE/SHARE of owners_budget without organization_id = <value>")
    ]


# --- shapes and parsing --------------------------------------------------------------------------------------


def test_statements_differing_in_values_and_list_lengths_share_a_shape():
    one = 'SELECT "x" FROM "owners_budget" WHERE "id" IN (%s, %s) AND "period" = \'2026-10\' LIMIT 21'
    two = 'SELECT "x" FROM "owners_budget" WHERE "id" IN (%s, %s, %s, %s) AND "period" = \'2026-11\' LIMIT 1'
    assert checker.shape(one) == checker.shape(two) == checker.shape(one.replace("IN (%s, %s)", "IN (7)"))
    rows = 'INSERT INTO "t" ("a", "b") VALUES (%s, %s), (%s, %s), (%s, %s)'
    assert checker.collapse(rows) == 'INSERT INTO "t" ("a", "b") VALUES (%s)'
    # names that contain digits are names, not values
    assert checker.shape('SELECT U0."id" FROM "t2" U0') == 'SELECT U0."id" FROM "t2" U0'


def test_unparsable_statement_raises_and_is_never_taken_as_routed():
    with pytest.raises(Unparsed):
        check('SELECT FROM WHERE "owners_budget" JOIN ON', TENANT)


def test_only_reads_and_writes_are_checked():
    assert checker.is_dml("  SELECT 1") and checker.is_dml("(SELECT 1) UNION (SELECT 2)")
    assert checker.is_dml("WITH x AS (SELECT 1) SELECT * FROM x") and checker.is_dml("delete from t")
    assert not checker.is_dml('SAVEPOINT "s1_x1"') and not checker.is_dml("SET CONSTRAINTS ALL IMMEDIATE")


# --- the report ----------------------------------------------------------------------------------------------


def test_report_groups_by_shape_keeps_the_first_origin_and_counts_everything():
    bad = 'SELECT 1 FROM "owners_budget" WHERE "owners_budget"."id" = %s FOR UPDATE'
    statements = {
        'SAVEPOINT "s1_x1"': (4, 0, "t::a"),
        BUDGET_WITH_OWNER.format(extra=ORG_EQUAL): (3, 1, "t::a"),
        bad: (2, 2, "t::b"),
        bad.replace("= %s", "IN (%s, %s)"): (1, 3, "t::c"),
        bad.replace("= %s", "IN (%s)"): (1, 4, "t::d"),  # same shape as the IN list, later
        "SELECT FROM WHERE": (1, 5, "t::e"),
        BUDGET_WITH_OWNER.format(extra=""): (5, 6, "t::f"),
    }
    report = recorder.analyse(statements, TENANT - {"owners_budgetowner"}, {"owners_budgetowner"})
    assert (report.executions, report.distinct, report.other, len(report.shapes)) == (17, 6, 4, 5)
    assert [(s.origin, s.executions) for s in report.flagged] == [("t::b", 2), ("t::c", 2)]
    assert [(s.origin, s.unparsed is not None) for s in report.unparsed] == [("t::e", True)]
    assert [(s.origin, [str(o) for o in s.pending]) for s in report.pending] == [
        ("t::f", ["join: owners_budget INNER JOIN owners_budgetowner"])
    ]
    assert report.failed
    assert report.summary() == (
        "query routing: 17 statements seen (4 not DML), 6 distinct, 5 shapes checked, 2 flagged, 1 unparsed; "
        "1 more once 1 pending tables are converted"
    )
    listing = "\n".join(report.lines())
    assert "first by t::b" in listing and "first by t::e" in listing and "first by t::f" in listing


def test_tenant_tables_come_from_the_models_and_pending_apps_are_exempt(monkeypatch):
    checked, exempt = recorder.tenant_tables()
    assert {"owners_budget", "owners_budgetowner", "statements_statementline", "tenancy_membership"} <= checked
    assert {"auth_user", "tenancy_organization", "pricing_provider"}.isdisjoint(checked | exempt)
    assert {table.split("_", 1)[0] for table in exempt} == set(keys.PENDING_APPS)
    # the exemption ends by itself when no app is pending
    monkeypatch.setattr(keys, "PENDING_APPS", frozenset())
    everything, none = recorder.tenant_tables()
    assert none == frozenset() and everything == checked | exempt
