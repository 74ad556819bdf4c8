"""Monthly rollups of the cube: ``MonthlyUsage`` (``DailyUsage`` by month) and ``MonthlyDetailUsage``
(``DailyDetailUsage`` by month).

A month of the daily cube grows with the month's traffic (days × tag combinations × models, days ×
customers × teams); the pages that show a whole month only need the month's sums, which grow with the
combinations alone. The rollups are kept in the same transaction as the cube, from the same cells: the
writer hands every cube delta it upserts to ``rollups_add`` (one call, ``writer._add_to_cubes``), so a
month cell is always the sum of its days' cells. Anything that changes the cube another way (a bulk
load, a repair) calls ``rollups_rebuild`` for the organisation afterwards; the migration that created
the tables filled them the same way.

Reads: ``month_span`` says whether a range of days is whole calendar months; then the rollup gives
exactly what the daily cube gives for it.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.db import connection

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import CUBE_SUM_FIELDS, DailyDetailUsage, DailyUsage, MonthlyDetailUsage, MonthlyUsage

# The writer's cube keys (writer.CUBE_KEY, writer.DETAIL_KEY) with the day replaced by its month.
MONTH_KEY = (
    "organization_id",
    "month",
    "provider",
    "model",
    "service_tier",
    "tagset_id",
    "is_retry",
    "is_batch",
    "currency",
)
MONTH_DETAIL_KEY = ("organization_id", "month", "dimension", "value", "team", "currency")
_DAY_AT = 1  # the position of the day in both writer keys


def by_month(cells: dict[tuple, list[int]]) -> dict[tuple, list[int]]:
    """Cube cells keyed with a day folded into cells keyed with its month (sums added)."""
    months: dict[tuple, list[int]] = {}
    for key, sums in cells.items():
        month_key = (*key[:_DAY_AT], key[_DAY_AT].replace(day=1), *key[_DAY_AT + 1 :])
        cell = months.get(month_key)
        if cell is None:
            months[month_key] = list(sums)
        else:
            for index, value in enumerate(sums):
                cell[index] += value
    return months


def rollups_add(*, cube: dict, detail: dict, upsert: Callable[[str, tuple, dict], int]) -> None:
    """Add the cube deltas just upserted (``writer.CUBE_KEY`` and ``writer.DETAIL_KEY`` cells) to the
    monthly rollups, with the writer's own upsert (same ordering, same overflow behaviour)."""
    upsert(MonthlyUsage._meta.db_table, MONTH_KEY, by_month(cube))
    upsert(MonthlyDetailUsage._meta.db_table, MONTH_DETAIL_KEY, by_month(detail))


def month_cells(records) -> tuple[dict, dict]:
    """For the writer's admission check (``writer._admit``): the current month cells these records feed,
    ``MONTH_KEY`` and ``MONTH_DETAIL_KEY`` cells by key (locked on PostgreSQL, after the day cells, in the
    order the upserts take them). A month cell is a sum like a day cell: a row that would take it beyond
    ``MAX_SUM`` is refused the same way."""
    if not records:
        return {}, {}
    organization_id = records[0].organization_id
    months = sorted({r.day.replace(day=1) for r in records})
    dimensions = sorted({d for r in records for d in r.detail_tags})
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    found = []
    for model, key, extra in (
        (MonthlyUsage, MONTH_KEY, ([], "")),
        (MonthlyDetailUsage, MONTH_DETAIL_KEY, (dimensions, " AND dimension IN ({})")),
    ):
        values, condition = extra
        if condition and not values:
            found.append({})
            continue
        marks = ", ".join(["%s"] * len(months))
        where = condition.format(", ".join(["%s"] * len(values))) if condition else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(key + CUBE_SUM_FIELDS)} FROM {model._meta.db_table} "
                f"WHERE organization_id = %s AND month IN ({marks}){where}{lock}",
                [organization_id, *months, *values],
            )
            width = len(key)
            rows = {tuple(row[:width]): list(row[width:]) for row in cursor.fetchall()}
        # SQLite returns dates as text: key them as the writer's records do.
        found.append({(k[0], _as_date(k[1]), *k[2:]): v for k, v in rows.items()})
    return found[0], found[1]


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def month_targets(record, team: str, cells: tuple[dict, dict]) -> list[tuple[dict, tuple, str]]:
    """The month cells a record adds to, as the writer's admission targets (cells, key, label)."""
    cube, detail = cells
    month = record.day.replace(day=1)
    key = (
        record.organization_id,
        month,
        record.provider,
        record.model,
        record.service_tier,
        record.tagset_id,
        record.is_retry,
        record.is_batch,
        record.currency,
    )
    targets = [(cube, key, f"the {month:%Y-%m} total of {record.provider} {record.model}")]
    targets += [
        (
            detail,
            (record.organization_id, month, dimension, value, team, record.currency),
            f"the {month:%Y-%m} total of {dimension} {value}",
        )
        for dimension, value in record.detail_tags.items()
    ]
    return targets


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def rebuild_sql(organization_id: int | None = None) -> list[tuple[str, list]]:
    """The statements that make the rollups anew from the cube: one organisation's, or every one's
    (with today's columns: a migration writes its own)."""
    where, params = ("WHERE organization_id = %s", [organization_id]) if organization_id is not None else ("", [])
    sums = ", ".join(CUBE_SUM_FIELDS)
    summed = ", ".join(f"sum({name})" for name in CUBE_SUM_FIELDS)
    statements = []
    for rollup, cube, key in (
        (MonthlyUsage, DailyUsage, MONTH_KEY),
        (MonthlyDetailUsage, DailyDetailUsage, MONTH_DETAIL_KEY),
    ):
        source = [_month_of("day") if column == "month" else column for column in key]
        statements.append((f"DELETE FROM {rollup._meta.db_table} {where}", params))
        statements.append(
            (
                f"INSERT INTO {rollup._meta.db_table} ({', '.join(key)}, {sums}) "
                f"SELECT {', '.join(source)}, {summed} FROM {cube._meta.db_table} {where} "
                f"GROUP BY {', '.join(source)}",
                params,
            )
        )
    return statements


@tenant_scoped
def rollups_rebuild(*, organization: Organization) -> None:
    """The organisation's monthly rollups made anew from its cube (after a bulk load or a repair). On
    PostgreSQL the cube tables are locked against writers until the caller's transaction ends (SHARE
    mode: reads go on), so no chunk lands between the cube read and the rollups written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.get_autocommit():
            tables = ", ".join((DailyUsage._meta.db_table, DailyDetailUsage._meta.db_table))
            cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")
        for sql, params in rebuild_sql(organization.pk):
            cursor.execute(sql, params)


def month_span(first: date | None, last: date | None) -> tuple[date, date] | None:
    """(first month, last month) when ``first``..``last`` (inclusive) is exactly whole calendar months,
    else None (the daily cube answers it)."""
    if first is None or last is None or first.day != 1 or first > last:
        return None
    if (last + timedelta(days=1)).day != 1:
        return None
    return first, last.replace(day=1)
