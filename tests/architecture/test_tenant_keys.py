"""Every tenant table is keyed by organisation in the database (issue 22), read from the migrated catalog.

On PostgreSQL (CI runs the suite there too): no tenant table may have a PRIMARY KEY, UNIQUE constraint or unique
index, or a foreign key to another tenant table, without ``organization_id``; every TenantForeignKey has its
composite foreign key, NOT DEFERRABLE. On SQLite the tenant constraints are nothing: the same test checks that
the SQLite schema has Django's plain keys and no composite ones, so it is never a silent skip.
"""

from collections import defaultdict

import pytest
from django.apps import apps
from django.db import connection

from apps.tenancy import keys
from apps.tenancy.keys import TenantForeignKey, TenantForeignKeyConstraint, TenantPrimaryKey
from apps.tenancy.models import TenantModel

pytestmark = pytest.mark.django_db


def tenant_models() -> list[type[TenantModel]]:
    return [model for model in apps.get_models() if issubclass(model, TenantModel)]


def tenant_tables() -> dict[str, str]:
    """``{table: app label}``: every concrete tenant model's table, and the automatic many-to-many tables of
    tenant models (tenant data too, but with no organisation of their own)."""
    tables = {}
    for model in tenant_models():
        tables[model._meta.db_table] = model._meta.app_label
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                tables[through._meta.db_table] = model._meta.app_label
    return tables


OFFENCES_SQL = """
WITH tenant AS (SELECT unnest(%(tables)s::text[]) AS relname),
t AS (SELECT c.oid, c.relname FROM pg_class c JOIN tenant USING (relname)
      WHERE c.relnamespace = 'public'::regnamespace)
SELECT t.relname, 'PRIMARY KEY' AS kind, con.conname,
       (SELECT array_agg(attname ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = t.oid AND attnum = ANY (con.conkey))::text AS columns
  FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'p'
 WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t.oid AND attnum = ANY (con.conkey)
                    AND attname = 'organization_id')
UNION ALL
SELECT t.relname, 'UNIQUE', ic.relname,
       (SELECT array_agg(attname ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = t.oid AND attnum = ANY (i.indkey))::text
  FROM t JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique AND NOT i.indisprimary
  JOIN pg_class ic ON ic.oid = i.indexrelid
 WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t.oid AND attnum = ANY (i.indkey)
                    AND attname = 'organization_id')
UNION ALL
SELECT t.relname, CASE WHEN con.condeferrable THEN 'FOREIGN KEY (deferrable)' ELSE 'FOREIGN KEY' END,
       con.conname, pg_get_constraintdef(con.oid)
  FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
  JOIN t target ON target.oid = con.confrelid
 WHERE con.condeferrable
    OR NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t.oid AND attnum = ANY (con.conkey)
                    AND attname = 'organization_id')
    OR NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = target.oid AND attnum = ANY (con.confkey)
                    AND attname = 'organization_id')
ORDER BY 1, 2, 3
"""


def catalog_offences(tables: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(table, kind, constraint or index, columns or definition) for every tenant key without the organisation."""
    with connection.cursor() as cursor:
        cursor.execute(OFFENCES_SQL, {"tables": sorted(tables)})
        return [tuple(row) for row in cursor.fetchall()]


def composite_foreign_keys() -> set[tuple[str, str, str]]:
    """(table, column, target table) of every NOT DEFERRABLE (organization_id, column) → (organization_id, id)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT con.conrelid::regclass::text, a.attname, con.confrelid::regclass::text
                 FROM pg_constraint con
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[2]
                 JOIN pg_attribute o ON o.attrelid = con.conrelid AND o.attnum = con.conkey[1]
                 JOIN pg_attribute ro ON ro.attrelid = con.confrelid AND ro.attnum = con.confkey[1]
                WHERE con.contype = 'f' AND NOT con.condeferrable AND cardinality(con.conkey) = 2
                  AND o.attname = 'organization_id' AND ro.attname = 'organization_id'"""
        )
        return {tuple(row) for row in cursor.fetchall()}


def test_every_app_is_converted():
    assert frozenset() == keys.PENDING_APPS


def _assert_sqlite_has_only_djangos_plain_keys():
    """The tenant constraints are PostgreSQL DDL; on SQLite every tenant table keeps PRIMARY KEY (id) and
    single-column foreign keys."""
    assert connection.vendor == "sqlite", connection.vendor
    composite = []
    with connection.cursor() as cursor:
        for table in tenant_tables():
            cursor.execute(f'PRAGMA table_info("{table}")')
            primary = [row[1] for row in cursor.fetchall() if row[5]]
            assert primary == ["id"], (table, primary)
            cursor.execute(f'PRAGMA foreign_key_list("{table}")')
            columns_per_key = defaultdict(int)
            for row in cursor.fetchall():
                columns_per_key[row[0]] += 1
            composite += [(table, key) for key, n in columns_per_key.items() if n > 1]
    assert composite == []


def test_every_tenant_key_in_the_catalog_carries_the_organisation():
    if connection.vendor != "postgresql":
        _assert_sqlite_has_only_djangos_plain_keys()
        return
    tables = tenant_tables()
    assert len(tables) >= 40, sorted(tables)
    offences = catalog_offences(tables)
    assert offences == [], "tenant keys without organization_id:\n" + "\n".join(map(str, offences))


def test_every_tenant_foreign_key_has_its_composite_constraint():
    postgresql = connection.vendor == "postgresql"
    have = composite_foreign_keys() if postgresql else set()
    editor = connection.schema_editor(collect_sql=True)  # not entered: only makes SQL
    editor.deferred_sql = []
    missing = []
    for model in tenant_models():
        assert any(isinstance(c, TenantPrimaryKey) for c in model._meta.constraints), model
        for constraint in model._meta.constraints:
            if isinstance(constraint, TenantPrimaryKey | TenantForeignKeyConstraint):
                # PostgreSQL DDL; on SQLite nothing at all
                assert (constraint.create_sql(model, editor) is None) is not postgresql, constraint
        declared = {c.field for c in model._meta.constraints if isinstance(c, TenantForeignKeyConstraint)}
        for field in model._meta.local_fields:
            if not isinstance(field, TenantForeignKey) or not field.tenant_constraint:
                continue
            assert field.name in declared, (model, field.name)
            if postgresql and (model._meta.db_table, field.column, field.related_model._meta.db_table) not in have:
                missing.append((model._meta.db_table, field.column))
    assert missing == []


def test_the_usage_fact_table_is_keyed_by_organisation_partitioned_by_month_and_has_no_foreign_keys():
    """``usage_usagerecord`` is the exception the tests above allow for, on purpose.

    Tens of millions of rows per organisation a month, written by COPY: its references (job, tag set) are
    ``TenantForeignKey(tenant_constraint=False)``, so joins over them carry the organisation but the database
    checks no foreign key at all (PostgreSQL checks one with a trigger per inserted row, as costly as the COPY
    itself; the writer guarantees them). On PostgreSQL it is range-partitioned by month on ``day``, and
    PostgreSQL requires the partition key in every unique key: PRIMARY KEY (organization_id, id, day), and the
    idempotency key (organization_id, source, request_id, day). Both lead with the organisation, so it
    distributes like every other tenant table. On SQLite it is a plain table."""
    from apps.usage.models import UsageRecord

    table = UsageRecord._meta.db_table
    for name in ("job", "tagset"):
        field = UsageRecord._meta.get_field(name)
        assert isinstance(field, TenantForeignKey) and field.tenant_constraint is False, name
    assert not [c for c in UsageRecord._meta.constraints if isinstance(c, TenantForeignKeyConstraint)]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'PRAGMA table_info("{table}")')
            assert [row[1] for row in cursor.fetchall() if row[5]] == ["id"]
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, (SELECT array_agg(attname) FROM pg_attribute WHERE attrelid = p.partrelid "
            "AND attnum = ANY (p.partattrs::int2[])) FROM pg_partitioned_table p WHERE p.partrelid = %s::regclass",
            [table],
        )
        assert cursor.fetchone() == ("r", ["day"])  # RANGE (day)
        cursor.execute(
            "SELECT contype, (SELECT array_agg(attname ORDER BY array_position(con.conkey, attnum)) FROM pg_attribute "
            "WHERE attrelid = con.conrelid AND attnum = ANY (con.conkey)) FROM pg_constraint con "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype",
            [table],
        )
        assert cursor.fetchall() == [
            ("p", ["organization_id", "id", "day"]),
            ("u", ["organization_id", "source", "request_id", "day"]),
        ]
        # every partition (this month and the next three at least) has the same keys, and no foreign key
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [table])
        names = {row[0]: "usage" for row in cursor.fetchall()}
    assert len(names) >= 4
    assert catalog_offences(names) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
            [table],
        )
        assert cursor.fetchone()[0] == 0
