"""Retention of raw usage rows: an organisation keeps ``usage_retention_months`` months of them (this month
included); an older month is exported to compressed CSV with a manifest, then removed. The cube (DailyUsage,
DailyDetailUsage) is kept: statements, periods and reports read it, not the raw rows.

A month is removed one of two ways (``manage.py usage_retention`` decides, and says which ran):
- ``partition dropped``: on PostgreSQL a month's partition holds every organisation's rows of that month, so it
  is DETACHed and DROPped only when every organisation with rows in it is past its retention there (and each one's
  rows were exported first). Milliseconds, and the space is back at once.
- ``rows deleted``: otherwise (other organisations still keep that month, or SQLite), that organisation's rows
  of the month are DELETEd in batches, each batch its own transaction. Row by row: slower, and the space is
  only reused after VACUUM; the figures are in the README.

Idempotent: a month with no rows left has nothing to do; a run stopped between export and removal finds its
export matching the rows (count and id range) and uses it instead of writing another; rows that arrived after
a month was removed (late data) are exported to a further part of that month's file.
"""

import csv
import gzip
import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import UsageRecord
from apps.usage.partitions import add_months, month_start, partitioned, partitions

ROWS_DELETED = "rows deleted"
PARTITION_DROPPED = "partition dropped"
EXPORT_COLUMNS = tuple(
    field.column for field in UsageRecord._meta.concrete_fields
)  # every stored column, in the model's order


@tenant_scoped
def retention_cutoff(*, organization: Organization, today: date) -> date | None:
    """The first day kept: rows of a day before it are past retention. None: the organisation keeps all."""
    months = organization.usage_retention_months
    if not months:
        return None
    return add_months(month_start(today), -(months - 1))


@dataclass(frozen=True, slots=True)
class MonthRows:
    month: date
    rows: int
    first_id: int
    last_id: int


def _month_range(month: date) -> tuple[date, date]:
    return month, add_months(month, 1)


@tenant_scoped
def usage_months_past_retention(*, organization: Organization, today: date) -> list[MonthRows]:
    """The organisation's months with raw rows that are past its retention, oldest first."""
    cutoff = retention_cutoff(organization=organization, today=today)
    if cutoff is None:
        return []
    records = UsageRecord.objects.filter(organization=organization, day__lt=cutoff)
    if partitioned():
        # one index probe a month of each partition before the cutoff, not a read of every old row
        months = [
            month
            for partition in partitions()
            if partition.first < cutoff
            for month in partition.months
            if month < cutoff and records.filter(day__gte=month, day__lt=add_months(month, 1)).exists()
        ]
    else:
        months = [month for month in records.dates("day", "month") if month < cutoff]
    return [usage_month_rows(organization=organization, month=month) for month in months]


@tenant_scoped
def usage_month_rows(*, organization: Organization, month: date) -> MonthRows:
    first, after = _month_range(month)
    figures = UsageRecord.objects.filter(organization=organization, day__gte=first, day__lt=after).aggregate(
        rows=Count("id"), first_id=Min("id"), last_id=Max("id")
    )
    return MonthRows(month, figures["rows"], figures["first_id"] or 0, figures["last_id"] or 0)


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    manifest_path: Path
    rows: int
    sha256: str
    reused: bool = False


def _export_paths(directory: Path, organization: Organization, month: date, part: int) -> tuple[Path, Path]:
    stem = f"usage-{organization.slug}-{month:%Y-%m}" + (f"-part{part}" if part > 1 else "")
    folder = directory / organization.slug
    return folder / f"{stem}.csv.gz", folder / f"{stem}.manifest.json"


@tenant_scoped
def usage_month_export(*, organization: Organization, month: date, directory: Path) -> Export:
    """Write the organisation's rows of ``month`` to ``<directory>/<slug>/usage-<slug>-<YYYY-MM>.csv.gz`` (gzip,
    a header row, every column, in id order) and a manifest next to it (rows, sha256 of the .csv.gz, id range,
    columns). An earlier export of exactly these rows is reused; otherwise the next free part is written (late
    rows after an earlier removal). Written to a temporary name and renamed: a file there is complete."""
    current = usage_month_rows(organization=organization, month=month)
    part = 1
    while True:
        path, manifest_path = _export_paths(directory, organization, month, part)
        if not manifest_path.exists():
            break
        manifest = json.loads(manifest_path.read_text())
        same = (manifest["rows"], manifest["first_id"], manifest["last_id"]) == (
            current.rows,
            current.first_id,
            current.last_id,
        )
        if same and path.exists() and _sha256(path) == manifest["sha256"]:
            return Export(path, manifest_path, current.rows, manifest["sha256"], reused=True)
        part += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with gzip.open(temporary, "wb", compresslevel=6) as stream:
        count = _write_csv(stream, organization, month)
    if count < 0:  # the manifest's count is of the records in the file as written (a value may hold a newline)
        with gzip.open(temporary, "rt", encoding="utf-8", newline="") as stream:
            count = sum(1 for _record in csv.reader(stream)) - 1
    digest = _sha256(temporary)
    os.replace(temporary, path)
    manifest = {
        "organization": organization.slug,
        "organization_id": organization.pk,
        "month": f"{month:%Y-%m}",
        "file": path.name,
        "rows": count,
        "first_id": current.first_id,
        "last_id": current.last_id,
        "sha256": digest,
        "compression": "gzip",
        "columns": list(EXPORT_COLUMNS),
        "exported_at": timezone.now().isoformat(),
    }
    temporary = manifest_path.with_name(manifest_path.name + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, manifest_path)
    return Export(path, manifest_path, count, digest)


def _write_csv(stream, organization: Organization, month: date) -> int:
    """The month's rows as CSV (a header, then every column in id order) into a binary stream; returns the
    rows written. PostgreSQL writes the CSV itself (COPY … TO STDOUT, an order of magnitude faster than
    formatting rows in Python); elsewhere the csv module writes the same columns (booleans t/f as COPY does)."""
    first, after = _month_range(month)
    table = UsageRecord._meta.db_table
    if connection.vendor == "postgresql":
        columns = ", ".join(EXPORT_COLUMNS)
        query = (
            f"COPY (SELECT {columns} FROM {table} WHERE organization_id = {int(organization.pk)} "  # noqa: S608
            f"AND day >= '{first.isoformat()}' AND day < '{after.isoformat()}' ORDER BY id) "
            "TO STDOUT WITH (FORMAT csv, HEADER true)"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
            for block in copy:
                stream.write(block)
        return -1  # counted by reading the file back
    rows = (
        UsageRecord.objects.filter(organization=organization, day__gte=first, day__lt=after)
        .order_by("id")
        .values_list(*[UsageRecord._meta.get_field(c).attname for c in _export_fields()])
    )
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in rows.iterator(chunk_size=5000):
        writer.writerow([_csv_value(value) for value in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _export_fields() -> list[str]:
    by_column = {field.column: field.name for field in UsageRecord._meta.concrete_fields}
    return [by_column[column] for column in EXPORT_COLUMNS]


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@tenant_scoped
def usage_month_delete(*, organization: Organization, month: date, batch: int = 50_000) -> int:
    """DELETE the organisation's rows of ``month`` in batches of ``batch``, each in its own transaction (locks
    and undo stay small; a stopped run resumes). Returns the rows deleted. Only this organisation's rows: the
    month's partition, if any, stays for the others."""
    first, after = _month_range(month)
    table = UsageRecord._meta.db_table
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE organization_id = %s AND day >= %s AND day < %s AND id IN "  # noqa: S608 - the model's table
                f"(SELECT id FROM {table} WHERE organization_id = %s AND day >= %s AND day < %s "
                "ORDER BY id LIMIT %s)",
                [organization.pk, first, after, organization.pk, first, after, batch],
            )
            done = cursor.rowcount
        deleted += done
        if done < batch:
            return deleted


@tenant_scoped
def usage_retention_audit(
    *, organization: Organization, month: date, rows: int, method: str, export: Export | None, months: int
) -> None:
    """The audit event of one removed month (inside the transaction that removed its last rows or dropped it)."""
    audit_record(
        organization=organization,
        actor=None,
        action="usage.retention_removed",
        object_type="usage.usagerecord",
        object_id=f"{month:%Y-%m}",
        before={"rows": rows},
        after={
            "rows": 0,
            "method": method,
            "export": export.path.name if export else "",
            "manifest": export.manifest_path.name if export else "",
            "sha256": export.sha256 if export else "",
        },
        reason=f"usage retention: {months} months kept",
    )
