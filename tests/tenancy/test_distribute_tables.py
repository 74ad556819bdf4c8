"""``manage.py distribute_tables``: the plan derived from the catalog (reference tables, tenant tables in foreign-key
order, the tables that must stay local and why) and the command's behaviour without Citus (nothing changes).

CI has no Citus: the plan is checked on a synthetic catalog (any database) and on the migrated PostgreSQL catalog
with ``--dry-run``; the distribution itself was run on a Citus cluster (README, "Scaling out on Citus")."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from apps.tenancy.distribution import (
    CITUS_LOCAL,
    DISTRIBUTED,
    REFERENCE,
    Catalog,
    ForeignKey,
    UniqueKey,
    citus_version,
    make_plan,
    read_catalog,
    topological,
)

pytestmark = pytest.mark.django_db


def fk(table, columns, target, target_columns, name=None):
    return ForeignKey(
        name=name or f"{table}_{'_'.join(columns)}_fk",
        table=table,
        columns=tuple(columns),
        target=target,
        target_columns=tuple(target_columns),
    )


def tenant_pk(table):
    return UniqueKey(name=f"{table}_tenant_pk", table=table, columns=("organization_id", "id"), primary=True)


ORG = ("organization_id",)


def synthetic_catalog(citus=None) -> Catalog:
    """A small schema with every case: global tables at two levels, a local global table, a tree of tenant tables,
    a tenant table keyed by id alone and one that references it, a local M2M table pointing at a tenant table."""
    tenant = {"owner", "budget", "line", "job", "job_error", "invoice", "zz_self"}
    foreign_keys = (
        fk("owner", ORG, "org", ("id",)),
        fk("owner", ("organization_id", "parent_id"), "owner", ("organization_id", "id")),
        fk("budget", ORG, "org", ("id",)),
        fk("budget", ("organization_id", "owner_id"), "owner", ("organization_id", "id")),
        fk("line", ("organization_id", "budget_id"), "budget", ("organization_id", "id")),
        fk("line", ("model_id",), "model", ("id",)),
        fk("line", ("created_by_id",), "user", ("id",)),
        fk("model", ("provider_id",), "provider", ("id",)),
        fk("keyprefix", ("client_organization_id",), "org", ("id",)),  # global, stays local: fine
        fk("user_groups", ("user_id",), "user", ("id",)),  # global, stays local: fine
        fk("job", ORG, "org", ("id",)),
        fk("job_error", ("organization_id", "job_id"), "job", ("organization_id", "id")),
        fk("invoice", ORG, "org", ("id",)),
        fk("job_invoices", ("invoice_id",), "invoice", ("id",)),  # an automatic M2M table without organisation
        fk("zz_self", ("organization_id", "owner_id"), "owner", ("organization_id", "id")),
    )
    unique_keys = (
        *(tenant_pk(table) for table in sorted(tenant - {"job"})),
        UniqueKey(name="job_pkey", table="job", columns=("id",), primary=True),
        UniqueKey(name="budget_code_uniq", table="budget", columns=("organization_id", "code"), primary=False),
    )
    return Catalog(
        tenant_tables=frozenset(tenant),
        global_tables=frozenset({"org", "user", "model", "provider", "keyprefix", "user_groups", "job_invoices"}),
        foreign_keys=foreign_keys,
        unique_keys=unique_keys,
        citus=citus,
    )


def test_the_plan_makes_reference_tables_referenced_first_and_tenant_tables_in_foreign_key_order():
    plan = make_plan(synthetic_catalog())

    # Referenced by tenant tables, plus what those reference (provider through model); not keyprefix or
    # user_groups, which only reference global tables themselves.
    assert plan.reference == ["org", "provider", "user", "model"]
    assert plan.distribute == ["owner", "budget", "zz_self", "line"]
    assert plan.colocate_with == "owner"
    assert plan.blocked_tenant_tables == ["invoice", "job", "job_error"]
    assert plan.blocked == {
        "job": ["PRIMARY KEY job_pkey (id) lacks organization_id"],
        "job_error": [
            "references job, which stays local: job_error_organization_id_job_id_fk (organization_id, job_id) -> "
            "job (organization_id, id)"
        ],
        "invoice": [
            "the local table job_invoices references it: FOREIGN KEY job_invoices_invoice_id_fk (invoice_id) -> "
            "invoice (id)"
        ],
    }
    assert plan.tenant_count == 7
    assert plan.reference_done == [] and plan.distributed_done == []


def test_a_foreign_key_between_tenant_tables_without_the_organisation_keeps_both_local():
    catalog = synthetic_catalog()
    catalog = Catalog(
        tenant_tables=catalog.tenant_tables,
        global_tables=catalog.global_tables,
        foreign_keys=(*catalog.foreign_keys, fk("line", ("owner_id",), "owner", ("id",), name="line_owner_fk")),
        unique_keys=catalog.unique_keys,
    )
    plan = make_plan(catalog)

    assert plan.blocked["line"] == ["FOREIGN KEY line_owner_fk (owner_id) -> owner (id) lacks organization_id"]
    # budget and owner are referenced by line, which stays local: Citus would not check those keys on a DELETE
    # of a budget or an owner, so they stay local too, and with them every tenant table tied to them.
    assert plan.blocked["budget"] == [
        "line, which stays local, references it: line_organization_id_budget_id_fk (organization_id, budget_id) -> "
        "budget (organization_id, id)"
    ]
    assert plan.blocked["owner"][0].startswith("budget, which stays local, references it: ")
    assert plan.distribute == []
    assert sorted(plan.blocked_tenant_tables) == sorted(catalog.tenant_tables)


def test_tables_citus_already_manages_are_skipped_and_the_rest_colocates_with_the_first_distributed():
    plan = make_plan(
        synthetic_catalog(citus={"org": REFERENCE, "user": REFERENCE, "budget": DISTRIBUTED, "invoice": CITUS_LOCAL})
    )

    assert plan.reference_done == ["org", "user"]
    assert plan.reference == ["provider", "model"]
    assert plan.distributed_done == ["budget"]
    assert plan.distribute == ["owner", "zz_self", "line"]
    assert plan.colocate_with == "budget"
    assert plan.blocked["invoice"][0] == "is already a citus local table: undistribute_table('invoice') first"


def test_topological_order_is_total_and_repeatable_with_a_cycle():
    keys = (
        fk("a", ORG, "b", ORG),
        fk("b", ORG, "a", ORG),
        fk("c", ORG, "a", ORG),
        fk("a", ORG, "a", ORG),  # a self-reference does not count
    )
    assert topological({"c", "b", "a", "d"}, keys) == ["d", "a", "b", "c"]
    assert topological({"c", "b", "a", "d"}, keys) == topological(["a", "b", "c", "d"], keys)


def run_command(*args) -> str:
    out = StringIO()
    call_command("distribute_tables", *args, stdout=out)
    return out.getvalue()


def sections(output: str) -> dict[str, list[tuple[str, str]]]:
    """The command's printed lists: {heading's first word: [(table, what), ...]}."""
    found, current = {}, None
    for line in output.splitlines():
        if line.startswith("  ") and current is not None:
            table, _, what = line.strip().partition(": ")
            found[current].append((table, what))
        else:
            current = line.split()[0]
            found.setdefault(current, [])
    return found


def database_settings() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(array_agg(s ORDER BY s), '{}') FROM pg_db_role_setting r"
            " JOIN pg_database d ON d.oid = r.setdatabase CROSS JOIN LATERAL unnest(r.setconfig) s"
            " WHERE d.datname = current_database() AND s LIKE 'citus.%%'"
        )
        return cursor.fetchone()[0]


def test_without_citus_the_command_does_nothing_and_says_so():
    if citus_version() is not None:  # the suite run against a Citus coordinator: the dry run changes nothing
        before = database_settings()
        output = run_command("--dry-run")
        assert output.startswith(f"Citus {citus_version()} in {connection.settings_dict['NAME']}: ")
        assert output.endswith("; nothing changed.\n")
        assert database_settings() == before
        return
    output = run_command()

    if connection.vendor != "postgresql":
        assert output == f"The database is {connection.vendor}, not PostgreSQL: there is nothing to distribute.\n"
        assert run_command("--dry-run") == output
        return
    database = connection.settings_dict["NAME"]
    assert output == f"The citus extension is not installed in {database}: nothing to distribute, nothing changed.\n"
    assert run_command("--dry-run").startswith(output)
    assert database_settings() == []  # neither the session nor the database got the Citus settings


def test_the_dry_run_prints_the_plan_from_the_migrated_catalog():
    output = run_command("--dry-run")
    if connection.vendor != "postgresql":
        assert output == f"The database is {connection.vendor}, not PostgreSQL: there is nothing to distribute.\n"
        return
    printed = sections(output)
    references = [table for table, _ in printed["Reference"]]
    tenant = [table for table, _ in printed["Tenant"]]
    local = {table for table, _ in printed.get("Stay", [])}
    done = citus_version() is not None  # against a Citus coordinator whose tables are distributed already
    assert all(what == ("already a reference table" if done else "would create") for _, what in printed["Reference"])
    assert all(what.startswith("already distributed" if done else "would distribute") for _, what in printed["Tenant"])

    # The global tables tenant tables reference, and what those reference: exactly these today.
    assert sorted(references) == ["auth_user", "pricing_aimodel", "pricing_provider", "tenancy_organization"]
    assert references.index("pricing_provider") < references.index("pricing_aimodel")

    # Every table with organization_id is listed once: distributed or staying local (with a reason).
    catalog = read_catalog()
    assert len(tenant) == len(set(tenant))
    assert set(tenant) | local == catalog.tenant_tables
    assert not set(tenant) & local
    assert {"owners_budgetowner", "statements_statement", "audit_auditevent", "tenancy_membership"} <= set(tenant)

    # Foreign-key order: every table comes after the tenant tables it references.
    position = {table: index for index, table in enumerate(tenant)}
    pairs = [
        (key.target, key.table)
        for key in catalog.foreign_keys
        if key.table in position and key.target in position and key.table != key.target
    ]
    assert pairs  # the order is constrained by real keys
    assert all(position[target] < position[table] for target, table in pairs)
    for first, then in [
        ("owners_budgetowner", "owners_budget"),
        ("periods_billingperiod", "statements_statement"),
        ("allocation_allocationrun", "statements_statement"),
        ("statements_statement", "statements_statementline"),
        ("statements_statementline", "disputes_dispute"),
    ]:
        assert position[first] < position[then]
    assert printed["Tenant"] and output.count(f"colocated with {tenant[0]} ") == 1

    # What stays local is named with the key that keeps it there.
    for table, reason in printed.get("Stay", []):
        assert reason.split()[0] in ("PRIMARY", "UNIQUE", "FOREIGN", "the", "references") or ", which" in reason
        assert table in catalog.tenant_tables or table in references
    if not done:
        assert database_settings() == []


def test_a_table_born_without_tenant_keys_is_named_and_a_partitioned_table_counts_once():
    if connection.vendor != "postgresql":
        assert sections(run_command("--dry-run")) == {"The": []}
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE TABLE zz_probe_keyed_by_id (
                   id bigint PRIMARY KEY, organization_id bigint NOT NULL REFERENCES tenancy_organization (id),
                   UNIQUE (organization_id, id));
               CREATE TABLE zz_probe_child (
                   organization_id bigint NOT NULL, id bigint NOT NULL, parent_id bigint NOT NULL,
                   PRIMARY KEY (organization_id, id),
                   CONSTRAINT zz_probe_child_parent_tfk FOREIGN KEY (organization_id, parent_id)
                       REFERENCES zz_probe_keyed_by_id (organization_id, id));
               CREATE TABLE zz_probe_events (
                   organization_id bigint NOT NULL REFERENCES tenancy_organization (id), id bigint NOT NULL,
                   day date NOT NULL, PRIMARY KEY (organization_id, id, day)) PARTITION BY RANGE (day);
               CREATE TABLE zz_probe_events_2026_10 PARTITION OF zz_probe_events
                   FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');"""
        )
    output = run_command("--dry-run")
    printed = sections(output)

    assert ("zz_probe_keyed_by_id", "PRIMARY KEY zz_probe_keyed_by_id_pkey (id) lacks organization_id") in printed[
        "Stay"
    ]
    assert (
        "zz_probe_child",
        "references zz_probe_keyed_by_id, which stays local: zz_probe_child_parent_tfk (organization_id, parent_id)"
        " -> zz_probe_keyed_by_id (organization_id, id)",
    ) in printed["Stay"]
    assert ("zz_probe_events", "would distribute (partitioned: its partitions follow)") in printed["Tenant"]
    assert "zz_probe_events_2026_10" not in output
