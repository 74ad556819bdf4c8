"""Distribution of the tenant tables on Citus, derived from the PostgreSQL catalog (``manage.py distribute_tables``).

- Tenant tables: every table of the schema with an ``organization_id`` column (a partitioned parent counts once;
  its partitions follow it). They are distributed by ``organization_id``, colocated, parents before children.
- Reference tables: every global table a tenant table references, plus what those reference, transitively
  (``tenancy_organization``, ``auth_user``, ``pricing_provider``, ``pricing_aimodel``...), referenced first.
  They are made before any tenant table is distributed: Citus refuses a foreign key from a distributed table
  to a table that is neither distributed nor a reference table.
- A tenant table that Citus would refuse, or that would leave a foreign key Citus cannot keep, stays local and
  the plan says why: a PRIMARY KEY or unique index without ``organization_id``; a foreign key to another
  tenant table without ``organization_id`` on both sides; a foreign key from a table that stays local (Citus
  keeps such a key on the coordinator only: a DELETE of the referenced row no longer checks it); or a foreign
  key to or from a tenant table that stays local for one of these reasons.

Two settings, for the session and for the database (``ALTER DATABASE ... SET``), so that they also hold for
every later connection, migrations included:
- ``citus.enable_local_reference_table_foreign_keys = off``: with the default, making ``tenancy_organization``
  a reference table turns every local table with a foreign key to it into a Citus local table, and those then
  refuse ``create_distributed_table`` (identity columns); a migration run later would do the same to a new
  table with a foreign key to ``auth_user``.
- ``citus.enable_unsafe_triggers = on``: Citus refuses ``CREATE TRIGGER`` on, and the distribution of, a table
  with triggers otherwise. The project's triggers look rows up by organisation, so they run on one shard.

Nothing here is needed on plain PostgreSQL or SQLite: without the ``citus`` extension the command does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, connection

TENANT_COLUMN = "organization_id"

DATABASE_SETTINGS = (
    ("citus.enable_local_reference_table_foreign_keys", "off"),
    ("citus.enable_unsafe_triggers", "on"),
)

# pg_dist_partition: partmethod 'h' is a hash-distributed table; 'n' with repmodel 't' a reference table, with
# repmodel 's' a Citus local table (or a table of a distributed schema).
DISTRIBUTED, REFERENCE, CITUS_LOCAL = "distributed", "reference", "citus local"


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]

    def carries_organisation(self) -> bool:
        """``organization_id`` on both sides, at the same place: the key stays inside one shard group."""
        return any(
            column == TENANT_COLUMN and target == TENANT_COLUMN
            for column, target in zip(self.columns, self.target_columns, strict=False)
        )

    def describe(self) -> str:
        return f"{self.name} ({', '.join(self.columns)}) -> {self.target} ({', '.join(self.target_columns)})"


@dataclass(frozen=True)
class UniqueKey:
    name: str
    table: str
    columns: tuple[str, ...]
    primary: bool

    def describe(self) -> str:
        kind = "PRIMARY KEY" if self.primary else "UNIQUE"
        return f"{kind} {self.name} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class Catalog:
    """What the plan needs from the database. ``citus`` is None without the extension, else the Citus kind of
    every table of the schema that Citus already manages."""

    tenant_tables: frozenset[str]
    global_tables: frozenset[str]
    foreign_keys: tuple[ForeignKey, ...]
    unique_keys: tuple[UniqueKey, ...]
    citus: dict[str, str] | None = None
    partitioned: frozenset[str] = frozenset()


@dataclass
class Plan:
    reference: list[str] = field(default_factory=list)  # to create, referenced first
    reference_done: list[str] = field(default_factory=list)
    distribute: list[str] = field(default_factory=list)  # to distribute, referenced first
    distributed_done: list[str] = field(default_factory=list)
    colocate_with: str | None = None
    blocked: dict[str, list[str]] = field(default_factory=dict)  # table: why it stays local
    blocked_tenant_tables: list[str] = field(default_factory=list)  # the tenant tables among them, in FK order

    @property
    def tenant_count(self) -> int:
        return len(self.distribute) + len(self.distributed_done) + len(self.blocked_tenant_tables)


def topological(tables, foreign_keys) -> list[str]:
    """``tables`` ordered so that every table comes after the tables it references (among ``tables``; a
    reference to itself does not count). Ties in name order; a cycle, which PostgreSQL allows, is broken at the
    first table by name, so the order is total and repeatable."""
    remaining = set(tables)
    needs = {table: set() for table in remaining}
    for key in foreign_keys:
        if key.table in remaining and key.target in remaining and key.table != key.target:
            needs[key.table].add(key.target)
    order = []
    while remaining:
        ready = sorted(table for table in remaining if not (needs[table] & remaining))
        if not ready:  # a cycle: take the first by name
            ready = [min(remaining)]
        for table in ready:
            order.append(table)
            remaining.discard(table)
    return order


def make_plan(catalog: Catalog) -> Plan:
    tenant = catalog.tenant_tables
    citus = catalog.citus or {}
    keys_from: dict[str, list[ForeignKey]] = {}
    keys_to: dict[str, list[ForeignKey]] = {}
    for key in catalog.foreign_keys:
        keys_from.setdefault(key.table, []).append(key)
        keys_to.setdefault(key.target, []).append(key)

    # Reference tables: the global tables tenant tables reference, then what those reference.
    reference: set[str] = set()
    frontier = [key.target for table in tenant for key in keys_from.get(table, []) if key.target not in tenant]
    while frontier:
        table = frontier.pop()
        if table in reference:
            continue
        reference.add(table)
        frontier.extend(key.target for key in keys_from.get(table, []) if key.target not in tenant)

    blocked: dict[str, list[str]] = {}
    for table in sorted(reference):
        for key in keys_from.get(table, []):
            if key.target in tenant:
                blocked.setdefault(table, []).append(f"references the tenant table {key.target}: {key.describe()}")
        if citus.get(table) == DISTRIBUTED:
            blocked.setdefault(table, []).append("is already a distributed table, not a reference table")

    for table in sorted(tenant):
        reasons = []
        if citus.get(table) in (REFERENCE, CITUS_LOCAL):
            reasons.append(f"is already a {citus[table]} table: undistribute_table('{table}') first")
        for unique in catalog.unique_keys:
            if unique.table == table and TENANT_COLUMN not in unique.columns:
                reasons.append(f"{unique.describe()} lacks {TENANT_COLUMN}")
        for key in keys_from.get(table, []):
            if key.target in tenant and not key.carries_organisation():
                reasons.append(f"FOREIGN KEY {key.describe()} lacks {TENANT_COLUMN}")
        for key in keys_to.get(table, []):
            if key.table not in tenant and key.table not in reference:
                reasons.append(f"the local table {key.table} references it: FOREIGN KEY {key.describe()}")
        if reasons:
            blocked[table] = reasons

    # A foreign key between a table that stays local and a tenant table keeps that one local too (both ways:
    # Citus refuses a distributed table referencing a local one, and does not check a local one referencing a
    # distributed one on DELETE). Repeat until nothing changes.
    changed = True
    while changed:
        changed = False
        for table in sorted(tenant - blocked.keys()):
            for key in keys_from.get(table, []):
                if key.target in blocked and key.target != table:
                    blocked[table] = [f"references {key.target}, which stays local: {key.describe()}"]
                    break
            else:
                for key in keys_to.get(table, []):
                    if key.table in blocked and key.table in tenant and key.table != table:
                        blocked[table] = [f"{key.table}, which stays local, references it: {key.describe()}"]
                        break
            changed = changed or table in blocked

    plan = Plan(blocked=blocked)
    for table in topological(reference, catalog.foreign_keys):
        if table in blocked:
            continue
        (plan.reference_done if citus.get(table) == REFERENCE else plan.reference).append(table)
    for table in topological(tenant, catalog.foreign_keys):
        if table in blocked:
            plan.blocked_tenant_tables.append(table)
        elif citus.get(table) == DISTRIBUTED:
            plan.distributed_done.append(table)
        else:
            plan.distribute.append(table)
    first = plan.distributed_done or plan.distribute
    plan.colocate_with = first[0] if first else None
    return plan


CATALOG_TABLES_SQL = """
SELECT c.relname, c.relkind = 'p',
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped)
  FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

# conparentid = 0: the key itself, not its copies on the partitions of a partitioned table.
CATALOG_FOREIGN_KEYS_SQL = """
SELECT con.conname, src.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i),
       tgt.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i)
  FROM pg_constraint con
  JOIN pg_class src ON src.oid = con.conrelid
  JOIN pg_class tgt ON tgt.oid = con.confrelid
 WHERE con.contype = 'f' AND con.conparentid = 0
   AND src.relnamespace = current_schema()::regnamespace AND NOT src.relispartition
"""

# Every unique index (a PRIMARY KEY, a UNIQUE constraint, a unique index, partial or not) of a table that is not
# a partition; an expression column shows as its expression.
CATALOG_UNIQUE_KEYS_SQL = """
SELECT ic.relname, c.relname,
       ARRAY(SELECT CASE WHEN k.attnum = 0 THEN 'expression' ELSE a.attname::text END
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.n <= i.indnkeyatts ORDER BY k.n),
       i.indisprimary
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_class ic ON ic.oid = i.indexrelid
 WHERE i.indisunique AND c.relnamespace = current_schema()::regnamespace AND NOT c.relispartition
"""

CITUS_TABLES_SQL = """
SELECT c.relname, p.partmethod, p.repmodel
  FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
 WHERE c.relnamespace = current_schema()::regnamespace
"""


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def citus_version() -> str | None:
    """The installed ``citus`` extension's version, or None (also on a database that is not PostgreSQL)."""
    if not is_postgresql():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        row = cursor.fetchone()
    return row[0] if row else None


def read_catalog() -> Catalog:
    """The current schema's tables, foreign keys and unique keys, and what Citus already manages."""
    with connection.cursor() as cursor:
        cursor.execute(CATALOG_TABLES_SQL, [TENANT_COLUMN])
        tables = cursor.fetchall()
        cursor.execute(CATALOG_FOREIGN_KEYS_SQL)
        foreign_keys = tuple(
            ForeignKey(name=name, table=table, columns=tuple(columns), target=target, target_columns=tuple(tcols))
            for name, table, columns, target, tcols in cursor.fetchall()
        )
        cursor.execute(CATALOG_UNIQUE_KEYS_SQL)
        unique_keys = tuple(
            UniqueKey(name=name, table=table, columns=tuple(columns), primary=primary)
            for name, table, columns, primary in cursor.fetchall()
        )
    citus = None
    if citus_version() is not None:
        citus = {}
        with connection.cursor() as cursor:
            cursor.execute(CITUS_TABLES_SQL)
            for table, method, replication in cursor.fetchall():
                if method == "h":
                    citus[table] = DISTRIBUTED
                else:
                    citus[table] = REFERENCE if replication == "t" else CITUS_LOCAL
    return Catalog(
        tenant_tables=frozenset(name for name, _, tenant in tables if tenant),
        global_tables=frozenset(name for name, _, tenant in tables if not tenant),
        foreign_keys=foreign_keys,
        unique_keys=unique_keys,
        citus=citus,
        partitioned=frozenset(name for name, partitioned, _ in tables if partitioned),
    )


def settings_sql() -> list[str]:
    """The statements that set the two Citus settings for this session and for the database."""
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    statements = [f"SET {name} = {value}" for name, value in DATABASE_SETTINGS]
    statements += [f"ALTER DATABASE {database} SET {name} = {value}" for name, value in DATABASE_SETTINGS]
    return statements


def reference_sql(table: str) -> tuple[str, list[str]]:
    return "SELECT create_reference_table(%s)", [connection.ops.quote_name(table)]


def distribute_sql(table: str, colocate_with: str | None) -> tuple[str, list[str]]:
    if colocate_with is None or colocate_with == table:
        return "SELECT create_distributed_table(%s, %s)", [connection.ops.quote_name(table), TENANT_COLUMN]
    return (
        "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
        [connection.ops.quote_name(table), TENANT_COLUMN, connection.ops.quote_name(colocate_with)],
    )


def run(sql: str, params=None) -> str | None:
    """Run one statement in its own transaction (the command runs in autocommit); the error's text, or None."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return " ".join(str(exc).split())
    return None
