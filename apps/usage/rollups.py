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
MONTH_KEY = ("organization_id", "month", "provider", "model", "service_tier", "tagset_id", "is_retry", "is_batch")
MONTH_DETAIL_KEY = ("organization_id", "month", "dimension", "value", "team")
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


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def rebuild_sql(organization_id: int | None = None) -> list[tuple[str, list]]:
    """The statements that make the rollups anew from the cube: one organisation's, or every one's."""
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
