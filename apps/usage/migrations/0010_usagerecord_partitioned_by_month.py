"""Issue 22: the usage table range-partitioned by month on ``day`` (PostgreSQL; on SQLite it stays plain).

Keys: PRIMARY KEY (organization_id, id, day) and the idempotency key UNIQUE (organization_id, source, request_id,
day): an event is (organisation, source, request id, UTC day of occurred_at). ``id`` continues from the old
identity through a sequence default (see ``apps/usage/partitions.py`` for why not an identity).

PostgreSQL, without copying a row (SCALE_PLAN §5):
- an empty table is rebuilt as the partitioned parent;
- a table with rows becomes one partition of the new parent over its whole range of months,
  ``usage_usagerecord_legacy``. Its new unique indexes are built CONCURRENTLY first and a CHECK on its range is
  validated (reads and writes go on meanwhile); then, in one short transaction under a lock on the table, the
  old keys and identity are dropped, the indexes become its constraints, the parent is made ``LIKE`` it, with the
  same index definitions, and the old table is attached (no scan: the validated CHECK proves the range; no index
  build: the parent's indexes adopt the partition's). It ages out as one piece (``usage_retention``).
This month and the next three get their partitions; the writer and the beat task make the others.

So the migration is not atomic (CONCURRENTLY cannot run in a transaction); every step checks where it stands,
so it can be run again after an interruption.
"""

# ruff: noqa: S608 - table and index names are constants of this migration
from datetime import date

from django.db import migrations, models, transaction

import apps.usage.partitions

TABLE = "usage_usagerecord"
LEGACY = f"{TABLE}_legacy"
SEQUENCE = f"{TABLE}_id_seq"
RANGE_CHECK = f"{LEGACY}_range"
NEW_KEY = "usage_usagerecord_tenant_pk"
IDEMPOTENCY = "usagerecord_idempotency"
MONTHS_AHEAD = 3


def _month(day: date, plus: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + plus
    return date(index // 12, index % 12 + 1, 1)


def _relkind(cursor, name: str):
    cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s AND relnamespace = 'public'::regnamespace", [name])
    row = cursor.fetchone()
    return row[0] if row else None


def _valid_index(cursor, name: str) -> bool:
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    if row and not row[0]:  # a CONCURRENTLY build that was interrupted leaves an invalid index: build it again
        cursor.execute(f'DROP INDEX CONCURRENTLY "{name}"')
        return False
    return bool(row)


def partition_usage_table(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if _relkind(cursor, TABLE) == "p":
            return  # done already
        cursor.execute(f'SELECT min(day), max(day) FROM "{TABLE}"')
        first_day, last_day = cursor.fetchone()
        if first_day is not None:
            first, after = _month(first_day), _month(last_day, 1)
            # Outside any transaction: nothing waits on these but other DDL.
            if not _valid_index(cursor, f"{LEGACY}_key"):
                cursor.execute(
                    f'CREATE UNIQUE INDEX CONCURRENTLY "{LEGACY}_key" ON "{TABLE}" (organization_id, id, day)'
                )
            if not _valid_index(cursor, f"{LEGACY}_idempotency"):
                cursor.execute(
                    f'CREATE UNIQUE INDEX CONCURRENTLY "{LEGACY}_idempotency" '
                    f'ON "{TABLE}" (organization_id, source, request_id, day)'
                )
            cursor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT IF EXISTS "{RANGE_CHECK}"')
            cursor.execute(
                f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{RANGE_CHECK}" CHECK (day >= %s AND day < %s) NOT VALID',
                [first, after],
            )
            cursor.execute(f'ALTER TABLE "{TABLE}" VALIDATE CONSTRAINT "{RANGE_CHECK}"')
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{TABLE}" IN ACCESS EXCLUSIVE MODE')
        # Rows written since the range was read are within it (the CHECK refuses the others). A table that was
        # empty must still be: stop (and run again) rather than drop a row.
        if first_day is None:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{TABLE}")')
            if cursor.fetchone()[0]:
                raise RuntimeError(f"{TABLE} received rows during the migration; run it again")
        # Where ids continue from: the identity's next value (never lower than the highest id).
        cursor.execute(f"SELECT pg_get_serial_sequence('\"{TABLE}\"', 'id')")
        identity = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {identity}")
        last_value, is_called = cursor.fetchone()
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{TABLE}"')
        last_id = max(last_value if is_called else last_value - 1, cursor.fetchone()[0])
        # The old table's plain indexes, to make again on the parent under their (Django) names.
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisunique ORDER BY c.relname",
            [TABLE],
        )
        plain_indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", [TABLE]
        )
        old_keys = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{LEGACY}"')
        for name in old_keys:
            cursor.execute(f'ALTER TABLE "{LEGACY}" DROP CONSTRAINT "{name}"')
        cursor.execute(f'ALTER TABLE "{LEGACY}" ALTER id DROP IDENTITY')
        for name, _definition in plain_indexes:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{(LEGACY + "_" + name)[:63]}"')
        cursor.execute(
            f'CREATE TABLE "{TABLE}" (LIKE "{LEGACY}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (day)'
        )
        cursor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT IF EXISTS "{RANGE_CHECK}"')
        cursor.execute(f'CREATE SEQUENCE "{SEQUENCE}" AS bigint OWNED BY "{TABLE}".id')
        if last_id > 0:
            cursor.execute("SELECT setval(%s, %s)", [SEQUENCE, last_id])
        cursor.execute(f"""ALTER TABLE "{TABLE}" ALTER id SET DEFAULT nextval('"{SEQUENCE}"')""")
        cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{NEW_KEY}" PRIMARY KEY (organization_id, id, day)')
        cursor.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{IDEMPOTENCY}" UNIQUE (organization_id, source, request_id, day)'
        )
        for _name, definition in plain_indexes:
            cursor.execute(definition)  # "CREATE INDEX <name> ON public.usage_usagerecord …": now the parent
        months_from = _month(date.today())
        if first_day is None:
            cursor.execute(f'DROP TABLE "{LEGACY}"')
        else:
            cursor.execute(
                f'ALTER TABLE "{LEGACY}" ADD CONSTRAINT "{LEGACY}_pkey" PRIMARY KEY USING INDEX "{LEGACY}_key", '
                f'ADD CONSTRAINT "{LEGACY}_idempotency" UNIQUE USING INDEX "{LEGACY}_idempotency"'
            )
            cursor.execute(
                f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{LEGACY}" FOR VALUES FROM (%s) TO (%s)', [first, after]
            )
            cursor.execute(f'ALTER TABLE "{LEGACY}" DROP CONSTRAINT "{RANGE_CHECK}"')
            months_from = max(months_from, after)
        for plus in range(MONTHS_AHEAD + 1):
            month = _month(months_from, plus)
            cursor.execute(
                f'CREATE TABLE "{TABLE}_{month:%Y_%m}" PARTITION OF "{TABLE}" FOR VALUES FROM (%s) TO (%s)',
                [month, _month(month, 1)],
            )


def unpartition_usage_table(apps, schema_editor):
    """Back to one plain table with PRIMARY KEY (id) and the old idempotency key: every partition's rows are
    copied into it (a rollback after a bad deploy, not a routine operation; it fails if the same request id
    was stored on two days)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    plain = f"{TABLE}_plain"
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "p":
            return
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisunique",
            [TABLE],
        )
        plain_indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
        cursor.execute(f'CREATE TABLE "{plain}" (LIKE "{TABLE}" INCLUDING CONSTRAINTS)')
        cursor.execute(f'INSERT INTO "{plain}" SELECT * FROM "{TABLE}"')
        cursor.execute(f'SELECT coalesce(max(id), 0) + 1 FROM "{plain}"')
        start = cursor.fetchone()[0]
        cursor.execute(f'DROP TABLE "{TABLE}" CASCADE')
        cursor.execute(f'ALTER TABLE "{plain}" RENAME TO "{TABLE}"')
        cursor.execute(f'ALTER TABLE "{TABLE}" ALTER id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {int(start)})')
        cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_pkey" PRIMARY KEY (id)')
        cursor.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{IDEMPOTENCY}" UNIQUE (organization_id, source, request_id)'
        )
        for definition in plain_indexes:
            cursor.execute(definition)


class _OnSQLite:
    """Run a schema operation's database side on SQLite only (PostgreSQL is rebuilt by the RunPython)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class RemoveConstraintOnSQLite(_OnSQLite, migrations.RemoveConstraint):
    pass


class AddConstraintOnSQLite(_OnSQLite, migrations.AddConstraint):
    pass


NEW_IDEMPOTENCY = models.UniqueConstraint(fields=("organization", "source", "request_id", "day"), name=IDEMPOTENCY)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("usage", "0009_tenant_fk")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="usagerecord", name=IDEMPOTENCY),
                migrations.AddConstraint(model_name="usagerecord", constraint=NEW_IDEMPOTENCY),
                migrations.AddConstraint(
                    model_name="usagerecord",
                    constraint=apps.usage.partitions.PartitionedTenantPrimaryKey(name=NEW_KEY, partition_column="day"),
                ),
            ],
            database_operations=[
                migrations.RunPython(partition_usage_table, unpartition_usage_table),
                RemoveConstraintOnSQLite(model_name="usagerecord", name=IDEMPOTENCY),
                AddConstraintOnSQLite(model_name="usagerecord", constraint=NEW_IDEMPOTENCY),
            ],
        ),
    ]
