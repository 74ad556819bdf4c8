"""Benchmark usage in bulk: millions of usage rows and their cube in minutes, by set-based SQL (PostgreSQL).

The real ingest stores about 2,500 events a second here (parsing, tag normalisation, pricing, COPY, the cube),
so a 10M-event benchmark would spend over an hour loading. This loader puts a *template* of synthetic events
(``apps.usage.synthetic``) through the real ingest (``ingest_events``: tag sets, prices, detail tags as any
ingest makes them), then repeats the template's rows in SQL, ``INSERT … SELECT`` from ``generate_series``,
spread evenly over the days asked for, with new request ids; then rebuilds the organisation's cube
(``DailyUsage``, ``DailyDetailUsage``) from its raw rows by ``INSERT … SELECT … GROUP BY`` and its monthly
rollups from the cube (``apps.usage.rollups``). The result is what the writer would have left after
ingesting the same rows: every cube cell is the sum of its rows.

The rows go in through the usage table's name, columns by name, ``id`` left to its default: it works on the
plain table and on a table partitioned by month (the template's ingest has created the months it spans).
For benchmarks and demos only: the repeated rows share the template's job.
"""

import time
from datetime import date

from django.db import connection, transaction

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import CUBE_SUM_FIELDS, DailyDetailUsage, DailyUsage, IngestJob, UsageRecord
from .writer import RECORD_COLUMNS

TEMPLATE_ROWS = 100_000
BATCH_ROWS = 1_000_000  # rows per INSERT … SELECT (one statement per batch keeps each one's memory bounded)
REQUEST_ID_PREFIX = "bulk_"

# The row columns copied from the template as they are (request_id, occurred_at and day are made anew).
_COPIED = tuple(column for column in RECORD_COLUMNS if column not in ("request_id", "occurred_at", "day"))


def _cube_sums(alias: str) -> str:
    """The SELECT list of the cube's measures (CUBE_SUM_FIELDS order) over raw rows, as the writer sums
    them (``writer._sums``)."""
    expressions = {
        "records": "count(*)",
        "requests": f"sum({alias}.request_count)",
        "unpriced_records": f"count(*) FILTER (WHERE {alias}.unpriced)",
        "cache_write_tokens": f"sum({alias}.cache_write_5m_tokens + {alias}.cache_write_1h_tokens)",
        "audio_tokens": f"sum({alias}.input_audio_tokens + {alias}.output_audio_tokens)",
        "image_tokens": f"sum({alias}.input_image_tokens + {alias}.output_image_tokens)",
        "gateway_cost_nano": f"sum(coalesce({alias}.gateway_cost_nano, 0))",
    }
    return ", ".join(expressions.get(name, f"sum({alias}.{name})") for name in CUBE_SUM_FIELDS)


@tenant_scoped
def usage_bulk_load(
    *,
    organization: Organization,
    rows: int,
    start: date,
    days: int,
    seed: int = 22,
    template_rows: int = TEMPLATE_ROWS,
    file_name: str = "bulk-load",
    log=None,
) -> IngestJob:
    """Store ``rows`` synthetic usage events of ``organization`` from ``start`` over ``days`` days (see the
    module's docstring) and leave its cube and rollups consistent with them. Returns the template's job,
    its ``accepted`` the whole count. PostgreSQL only."""
    from .rollups import rollups_rebuild
    from .services.ingest import ingest_events
    from .synthetic import generate_events

    if connection.vendor != "postgresql":
        raise RuntimeError("usage_bulk_load writes by PostgreSQL SQL: run it on PostgreSQL.")
    say = log or (lambda _text: None)
    template = min(rows, template_rows)
    started = time.perf_counter()
    events = generate_events(count=template, start=start, days=days, seed=seed)
    job = ingest_events(organization=organization, events=events, expected=template, file_name=file_name)
    say(f"template: {job.accepted:,} events through the ingest in {time.perf_counter() - started:,.1f}s")
    extra = rows - job.accepted
    if extra <= 0:
        return job
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The GROUP BYs of the rebuild hash millions of rows: in memory, not spilled in 4 MB pieces.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        estimated = _repeat_template(job=job, extra=extra, start=start, days=days, log=say)
        say(f"rows: {extra:,} by INSERT … SELECT in {time.perf_counter() - started:,.1f}s")
        cube_started = time.perf_counter()
        cube_rebuild(organization=organization)
        rollups_rebuild(organization=organization)
        say(f"cube and rollups rebuilt from the rows in {time.perf_counter() - cube_started:,.1f}s")
        job.accepted += extra
        job.rows_total += extra
        job.lines_done += extra
        job.lines_expected += extra
        job.estimated_nano += estimated
        job.save(update_fields=["accepted", "rows_total", "lines_done", "lines_expected", "estimated_nano"])
    return job


def _repeat_template(*, job: IngestJob, extra: int, start: date, days: int, log) -> int:
    """Insert ``extra`` rows cycling through the job's rows, evenly spread over the days; returns their
    estimated cost."""
    table = UsageRecord._meta.db_table
    copied = ", ".join(_COPIED)
    from_template = ", ".join(f"t.{c}" for c in _COPIED)
    span_seconds = days * 86400
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS usage_bulk_template")
        # The template's rows numbered 0..n-1, each with its seconds past the minute (kept as jitter).
        cursor.execute(
            f"CREATE TEMP TABLE usage_bulk_template ON COMMIT DROP AS "
            f"SELECT row_number() OVER (ORDER BY id) - 1 AS n, {copied}, "
            f"extract(second FROM occurred_at)::int AS jitter "
            f"FROM {table} WHERE organization_id = %s AND job_id = %s",
            [job.organization_id, job.pk],
        )
        cursor.execute("SELECT count(*) FROM usage_bulk_template")
        size = cursor.fetchone()[0]
        cursor.execute("CREATE UNIQUE INDEX ON usage_bulk_template (n)")
        cursor.execute("ANALYZE usage_bulk_template")
        # Their cost: whole rounds of the template, then its first rows.
        rounds, rest = divmod(extra, size)
        cursor.execute(
            "SELECT coalesce(sum(estimated_nano), 0), coalesce(sum(estimated_nano) FILTER (WHERE n < %s), 0) "
            "FROM usage_bulk_template",
            [rest],
        )
        whole, part = cursor.fetchone()
        estimated = int(whole) * rounds + int(part)
        for first in range(0, extra, BATCH_ROWS):
            last = min(extra, first + BATCH_ROWS) - 1
            batch_started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO {table} ({copied}, request_id, occurred_at, day) "
                f"SELECT {from_template}, %(prefix)s || lpad(g::text, 10, '0'), w.at, (w.at AT TIME ZONE 'UTC')::date "
                "FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g "
                "CROSS JOIN LATERAL (SELECT %(span)s::bigint * g / %(extra)s AS second) s "
                "JOIN usage_bulk_template t ON t.n = g %% %(size)s "
                "CROSS JOIN LATERAL (SELECT %(start)s::timestamptz "
                "  + make_interval(secs => s.second - s.second %% 60 + t.jitter) AS at) w "
                "ORDER BY g",
                {
                    "prefix": REQUEST_ID_PREFIX,
                    "first": first,
                    "last": last,
                    "size": size,
                    "start": f"{start.isoformat()}T00:00:00+00:00",
                    "span": span_seconds,
                    "extra": extra,
                },
            )
            log(f"  {last + 1:,} of {extra:,} ({time.perf_counter() - batch_started:,.1f}s)")
    return estimated


@tenant_scoped
def cube_rebuild(*, organization: Organization) -> None:
    """The organisation's ``DailyUsage`` and ``DailyDetailUsage`` made anew from its raw rows by GROUP BY:
    what the writer's upserts add up to (the detail cells' team is the tag set's team tag)."""
    from apps.taxonomy.models import TagSet

    rows = UsageRecord._meta.db_table
    cube = DailyUsage._meta.db_table
    detail = DailyDetailUsage._meta.db_table
    sums = ", ".join(CUBE_SUM_FIELDS)
    cube_key = "organization_id, day, provider, model, service_tier, tagset_id, is_retry, is_batch, currency"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {cube} WHERE organization_id = %s", [organization.pk])
        cursor.execute(f"DELETE FROM {detail} WHERE organization_id = %s", [organization.pk])
        cursor.execute(
            f"INSERT INTO {cube} ({cube_key}, {sums}) "
            f"SELECT {cube_key}, {_cube_sums(rows)} FROM {rows} "
            f"WHERE organization_id = %s GROUP BY {cube_key}",
            [organization.pk],
        )
        cursor.execute(
            f"INSERT INTO {detail} (organization_id, day, dimension, value, team, currency, {sums}) "
            f"SELECT r.organization_id, r.day, d.key, d.value, coalesce(s.tags ->> 'team', ''), r.currency, "
            f"{_cube_sums('r')} "
            f"FROM {rows} r JOIN {TagSet._meta.db_table} s "
            "  ON s.organization_id = r.organization_id AND s.id = r.tagset_id "
            "CROSS JOIN LATERAL jsonb_each_text(r.detail_tags) d "
            "WHERE r.organization_id = %s AND r.detail_tags <> '{}'::jsonb "
            "GROUP BY r.organization_id, r.day, d.key, d.value, coalesce(s.tags ->> 'team', ''), r.currency",
            [organization.pk],
        )
