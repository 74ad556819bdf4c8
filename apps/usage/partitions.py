"""The usage table's monthly partitions (PostgreSQL; on SQLite the table is plain and all of this does nothing).

``usage_usagerecord`` is ``PARTITION BY RANGE (day)`` with one partition a month, ``usage_usagerecord_YYYY_MM``
holding every organisation's rows of that month (a table migrated from before the partitioning keeps its old
rows in one partition over their whole range, ``usage_usagerecord_legacy``). Its keys: PRIMARY KEY
(organization_id, id, day) and UNIQUE (organization_id, source, request_id, day): the partition key is part
of every unique key (PostgreSQL requires it), the organisation leads (the distribution column on Citus).
``id`` comes from a sequence default: an identity column on a partitioned parent fills only inserts made
through the parent on PostgreSQL 15, not a direct insert into a partition.

Months are made ahead: by the beat task ``usage.create_usage_partitions`` (this month and the next
``MONTHS_AHEAD``) and by the writer for the months of a chunk before its COPY (a back-dated file). There is no
DEFAULT partition on purpose: a row for a month nobody made fails loudly (``no partition of relation … found
for row``) instead of landing in a catch-all that every later CREATE of that month would have to scan and
move rows out of, under a lock on the whole table.

A month is made as a plain table ``LIKE`` the parent and then attached: ATTACH takes only SHARE UPDATE
EXCLUSIVE on the parent (reads and writes go on), where ``CREATE TABLE … PARTITION OF`` would take ACCESS
EXCLUSIVE and wait behind, and block, every query on the table. Creators serialise on an advisory lock and
look again under it, so concurrent writers make a month once.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from apps.tenancy.keys import TENANT_COLUMN, TenantPrimaryKey

TABLE = "usage_usagerecord"
LEGACY_PARTITION = f"{TABLE}_legacy"
MONTHS_AHEAD = 3
_LOCK = "usage_usagerecord partitions"
_BOUND = re.compile(r"FOR VALUES FROM \('([0-9-]+)'\) TO \('([0-9-]+)'\)")


class PartitionedTenantPrimaryKey(TenantPrimaryKey):
    """PRIMARY KEY (organization_id, id, <partition column>) of a partitioned tenant table (PostgreSQL; elsewhere
    nothing). The table is made by its migration (``apps/usage/migrations``); this declares the key to Django,
    and is what the tenant-key hook finds under the table's ``tenant_pk`` name."""

    def __init__(self, *, name: str, partition_column: str, **kwargs):
        self.partition_column = partition_column
        super().__init__(name=name, **kwargs)

    def _swap_sql(self, model) -> str:
        table = model._meta.db_table
        pk = model._meta.pk.column
        return (
            f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{table}_pkey", '
            f'ADD CONSTRAINT "{self.name}" PRIMARY KEY ("{TENANT_COLUMN}", "{pk}", "{self.partition_column}")'
        )

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["partition_column"] = self.partition_column
        return path, args, kwargs

    def __eq__(self, other):
        if isinstance(other, PartitionedTenantPrimaryKey):
            return (self.name, self.partition_column) == (other.name, other.partition_column)
        return NotImplemented

    def __hash__(self):
        return hash((type(self).__name__, self.name, self.partition_column))

    def __repr__(self):
        return f"<PartitionedTenantPrimaryKey: name={self.name!r} partition_column={self.partition_column!r}>"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    first: date  # first day in it
    after: date  # first day after it

    @property
    def months(self) -> list[date]:
        months, month = [], self.first
        while month < self.after:
            months.append(month)
            month = add_months(month, 1)
        return months


def partitioned() -> bool:
    """Whether the usage table is partitioned here (PostgreSQL)."""
    return connection.vendor == "postgresql"


def partitions() -> list[Partition]:
    """The usage table's partitions, oldest first (none on SQLite)."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        found = []
        for name, bound in cursor.fetchall():
            match = _BOUND.search(bound or "")
            if match:
                found.append(Partition(name, date.fromisoformat(match[1]), date.fromisoformat(match[2])))
    return sorted(found, key=lambda p: p.first)


def partition_for(month: date) -> Partition | None:
    return next((p for p in partitions() if p.first <= month < p.after), None)


def _missing(months: set[date], existing: list[Partition]) -> list[date]:
    return sorted(m for m in months if not any(p.first <= m < p.after for p in existing))


def ensure_months(days: Iterable[date]) -> list[str]:
    """Make the partitions of the months of these days that do not exist yet; returns the names made.
    Idempotent and safe to run concurrently (an advisory lock, and a second look under it). Runs in its own
    short transaction when called outside one (the writer calls it before a chunk's transaction)."""
    if not partitioned():
        return []
    months = {month_start(day) for day in days}
    if not _missing(months, partitions()):
        return []
    made = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
        for month in _missing(months, partitions()):
            name = partition_name(month)
            # One statement: the partition takes the parent's columns, defaults and indexes. (CREATE … LIKE then
            # ATTACH would hold the parent's lock for less, but Citus deadlocks on that pair in one transaction;
            # a month is made ahead by the beat task, so here only for a back-dated file, in its own transaction.)
            cursor.execute(
                f'CREATE TABLE "{name}" PARTITION OF "{TABLE}" FOR VALUES FROM (%s) TO (%s)',
                [month.isoformat(), add_months(month, 1).isoformat()],
            )
            made.append(name)
    return made


def ensure_months_ahead(*, today: date, ahead: int = MONTHS_AHEAD) -> list[str]:
    """This month's partition and the next ``ahead`` months' (the beat task)."""
    first = month_start(today)
    return ensure_months(add_months(first, n) for n in range(ahead + 1))


def organizations_with_rows(partition: Partition) -> set[int]:
    """The ids of the organisations with rows in this partition (across organisations: retention's question of
    whether a month can go as a whole). One index probe an organisation, not a scan of the partition; each
    probe names its organisation, so on a database distributed by organisation it goes to one shard (a
    subquery correlated with the organisation table would not plan there)."""
    from apps.tenancy.models import Organization

    found = set()
    probe = f'SELECT EXISTS (SELECT 1 FROM "{partition.name}" WHERE organization_id = %s)'  # noqa: S608 - catalog name
    with connection.cursor() as cursor:
        for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute(probe, [organization_id])
            if cursor.fetchone()[0]:
                found.add(organization_id)
    return found


def detach_and_drop(partition: Partition) -> None:
    """Remove a whole partition: DETACH (the parent no longer sees it) then DROP. A moment's lock on the
    parent, no row by row work, and the space is back at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{TABLE}" DETACH PARTITION "{partition.name}"')
        cursor.execute(f'DROP TABLE "{partition.name}"')
