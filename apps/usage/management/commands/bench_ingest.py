"""Ingest benchmark (``make bench``): the real ingest path against a bare COPY of the same rows.

Runs in a scratch database created and dropped like the test runner's, on PostgreSQL only (the figure
that matters is the production engine). Prints rows/s for both paths, their ratio and peak memory.
"""

import io
import json
import resource
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from apps.tenancy.scoping import organization_scope
from apps.usage.synthetic import generate_events, write_ndjson


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Benchmark usage ingestion on PostgreSQL: real path vs bare COPY (prints figures, asserts nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--keep-file", action="store_true")

    def handle(self, *args, rows: int, keep_file: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The ingest benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
        from datetime import date

        workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        source = workdir / "events.ndjson"
        started = time.perf_counter()
        write_ndjson(source, generate_events(count=rows, start=date(2026, 10, 1), days=31, seed=7))
        self.stdout.write(
            f"generated {rows:,} events ({source.stat().st_size / 1e6:,.0f} MB) in "
            f"{time.perf_counter() - started:,.1f}s"
        )
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            real_seconds, real_rss, job = self._real_path(source)
            copy_seconds = self._bare_copy(source, job)
        finally:
            teardown_databases(old_config, verbosity=0)
            if not keep_file:
                source.unlink(missing_ok=True)
        real_rate = rows / real_seconds
        copy_rate = rows / copy_seconds
        self.stdout.write(
            json.dumps(
                {
                    "rows": rows,
                    "real_path_seconds": round(real_seconds, 2),
                    "real_path_rows_per_s": round(real_rate),
                    "bare_copy_seconds": round(copy_seconds, 2),
                    "bare_copy_rows_per_s": round(copy_rate),
                    "ratio_real_to_copy": round(real_rate / copy_rate, 3),
                    "peak_memory_mb": round(real_rss),
                    "accepted": job.accepted,
                    "cube_cells": job.cube_cells,
                    "detail_cells": job.detail_cells,
                    "target": "ratio >= 0.5 and peak memory < 500 MB",
                },
                indent=2,
            )
        )

    def _real_path(self, source: Path):
        from apps.pricing.services import price_book_load_default
        from apps.taxonomy.demo import seed_demo as seed_taxonomy
        from apps.tenancy.models import Organization
        from apps.usage.models import DailyDetailUsage, DailyUsage, IngestJob
        from apps.usage.services.ingest import ingest_job_create, ingest_job_run

        organization = Organization.objects.create(slug="bench", name="Benchmark Org")
        price_book_load_default()
        seed_taxonomy(organization=organization, stdout=io.StringIO())
        with source.open("rb") as stream:
            job, _ = ingest_job_create(
                organization=organization,
                actor=None,
                file_name=source.name,
                stream=stream,
                format="ndjson",
                channel=IngestJob.Channel.COMMAND,
                enqueue=False,
            )
        started = time.perf_counter()
        job = ingest_job_run(job_id=job.pk)
        seconds = time.perf_counter() - started
        with organization_scope(organization):
            job.refresh_from_db()
            # What the aggregates cost: cells written beside the raw rows.
            job.cube_cells = DailyUsage.objects.count()
            job.detail_cells = DailyDetailUsage.objects.count()
        self.stdout.write(f"real path: {job.accepted:,} accepted in {seconds:,.1f}s, status {job.status}")
        return seconds, _peak_rss_mb(), job

    def _bare_copy(self, source: Path, job) -> float:
        """COPY the same rows, pre-converted to the stored columns, into an equivalent table with the same
        unique constraint (and indexes, without foreign keys). Conversion happens before the clock starts."""
        from apps.usage.models import UsageRecord
        from apps.usage.parsers.base import TOKEN_FIELDS
        from apps.usage.writer import RECORD_COLUMNS

        converted = source.with_suffix(".copy")
        with source.open() as events, converted.open("w") as out:
            for line in events:
                event = json.loads(line)
                usage = event["usage"]
                stored = {
                    "organization_id": job.organization_id,
                    "job_id": job.pk,
                    "source": "events",
                    "request_id": event["request_id"],
                    "occurred_at": event["occurred_at"],
                    "day": event["occurred_at"][:10],
                    "provider": event["provider"],
                    "model": event["model"],
                    "model_raw": event["model"],
                    "service_tier": event["service_tier"],
                    "tagset_id": 1,
                    "detail_tags": json.dumps({"customer": event["tags"].get("customer")}),
                    "trace_id": event["trace_id"],
                    "is_retry": event["is_retry"],
                    "is_batch": event["service_tier"] == "batch",
                    "request_count": 1,
                    **{name: usage[name] for name in TOKEN_FIELDS},
                    "tool_calls": sum(event["tool_calls"].values()),
                    "tool_calls_detail": json.dumps(event["tool_calls"]),
                    "gateway_cost_nano": None,
                    "currency": "USD",
                    "unpriced": False,
                    "missing_required_tags": False,
                }
                values = [stored.get(column, 0) for column in RECORD_COLUMNS]
                out.write(
                    "\t".join("\\N" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in values)
                    + "\n"
                )
        table = UsageRecord._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE bench_copy (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY "
                "INCLUDING CONSTRAINTS INCLUDING INDEXES)"
            )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            copy_sql = f"COPY bench_copy ({', '.join(RECORD_COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy, converted.open("rb") as data:
                while block := data.read(1 << 20):
                    copy.write(block)
            cursor.execute("SELECT count(*) FROM bench_copy")
            copied = cursor.fetchone()[0]
        seconds = time.perf_counter() - started
        converted.unlink(missing_ok=True)
        self.stdout.write(f"bare COPY: {copied:,} rows in {seconds:,.1f}s")
        return seconds
