"""Writing one chunk of priced usage rows and their cube deltas, inside the caller's transaction.

The idempotency rule: an event is (organisation, source, request id, UTC day of ``occurred_at``). A replayed
event (same request id, same timestamp) is a duplicate; the same request id on another day is another event.
The table's unique key is exactly that (``usagerecord_idempotency``), and it holds ``day`` because the table
is partitioned by month on ``day`` (PostgreSQL; ``apps/usage/partitions.py``): the writer first makes the
partitions of the chunk's months.

PostgreSQL: the chunk is COPYed straight into the usage table inside a savepoint, in (request id, day)
order (so two writers that overlap wait on each other in one direction only and cannot deadlock). If that
COPY fails for any reason, the savepoint is rolled back and the chunk goes through a temporary staging
table and INSERT … ON CONFLICT (organization_id, source, request_id, day) DO NOTHING RETURNING instead, so
the database decides which rows are new; once a job has met stored rows it keeps using that path. The
fallback does not look at the error: a duplicate COPY raises UniqueViolation on PostgreSQL but InternalError
(SQLSTATE XX000, naming a shard) on Citus; any other failure happens again on the staging path and is raised
from there. SQLite (one writer at a time): read which of the chunk's events are stored, then bulk insert the
rest. Either way only the rows actually inserted go into the DailyUsage cube, with one upsert per cell in a
fixed (sorted) order to avoid deadlocks.

Sums are checked: a cube cell, a detail cell or the job's total that would leave the 64-bit range
(``apps.core.ceilings.MAX_SUM``) makes the database refuse the chunk (PostgreSQL raises on bigint
overflow; on SQLite, where an overflowing sum silently turns into a float, a CHECK constraint on every
sum column refuses it). The chunk is then rolled back to a savepoint and written again with the
current cells read first: the rows that would take a sum over are refused, each with its line, and
the rest are stored. The fast path pays one savepoint per chunk for this.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime

from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.core.ceilings import MAX_SUM, within_sum
from apps.taxonomy.models import TagSet
from apps.usage.models import (
    CUBE_SUM_FIELDS,
    SOURCE_DAY_KEY,
    SOURCE_DAY_SUMS,
    DailyDetailUsage,
    DailyUsage,
    UsageRecord,
    UsageSourceDay,
)
from apps.usage.partitions import ensure_months
from apps.usage.rollups import month_cells, month_targets, rollups_add

RECORD_COLUMNS = (
    "organization_id",
    "job_id",
    "source",
    "request_id",
    "occurred_at",
    "day",
    "provider",
    "model",
    "model_raw",
    "service_tier",
    "tagset_id",
    "detail_tags",
    "trace_id",
    "is_retry",
    "is_batch",
    "request_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "output_image_tokens",
    "context_window",
    "tool_calls",
    "tool_calls_detail",
    "cost_input_nano",
    "cost_output_nano",
    "cost_cache_read_nano",
    "cost_cache_write_nano",
    "cost_tools_nano",
    "cost_audio_nano",
    "cost_image_nano",
    "estimated_nano",
    "gateway_cost_nano",
    "currency",
    "price_book_version_id",
    "unpriced",
    "missing_required_tags",
)

# COPY's column order: the tag set id first, so a line prepared before the tag sets are resolved is
# completed by putting the id in front of it.
COPY_COLUMNS = ("tagset_id", *(c for c in RECORD_COLUMNS if c != "tagset_id"))

# A cube cell holds one currency: amounts of different currencies are never added together (they are
# converted, when at all, by the runs that read the cube).
CUBE_KEY = (
    "organization_id",
    "day",
    "provider",
    "model",
    "service_tier",
    "tagset_id",
    "is_retry",
    "is_batch",
    "currency",
)
DETAIL_KEY = ("organization_id", "day", "dimension", "value", "team", "currency")
CUBE_SUMS = CUBE_SUM_FIELDS

# Provider usage exports whose buckets are pulled again as the provider completes them: a bucket stored
# before with other quantities is replaced (updated in place, its cube cells moved by the difference),
# not dropped as a duplicate. A bucket's id is derived from its time and group keys, never its amounts.
REPLACEABLE_SOURCES = frozenset({"openai-usage", "anthropic-usage"})
# The columns that say what a stored event is: a re-pulled bucket equal on all of them is a duplicate.
# (Not the job that stored it, nor the price-book version: the same figures priced the same are the same.)
_COMPARED = tuple(c for c in RECORD_COLUMNS if c not in ("organization_id", "job_id", "price_book_version_id"))
# What replacing a stored bucket writes: everything but its identity.
_UPDATED = tuple(c for c in RECORD_COLUMNS if c not in ("organization_id", "source", "request_id", "day"))


@dataclass(slots=True)
class PreparedRecord:
    organization_id: int
    job_id: int
    source: str
    request_id: str
    occurred_at: datetime
    day: date
    provider: str
    model: str
    model_raw: str
    service_tier: str
    tagset_id: int
    detail_tags: dict
    trace_id: str
    is_retry: bool
    is_batch: bool
    request_count: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    input_audio_tokens: int
    output_audio_tokens: int
    input_image_tokens: int
    output_image_tokens: int
    context_window: str
    tool_calls: int
    tool_calls_detail: dict
    cost_input_nano: int
    cost_output_nano: int
    cost_cache_read_nano: int
    cost_cache_write_nano: int
    cost_tools_nano: int
    cost_audio_nano: int
    cost_image_nano: int
    estimated_nano: int
    gateway_cost_nano: int | None
    currency: str
    price_book_version_id: int | None
    unpriced: bool
    missing_required_tags: bool
    # Not stored: the line it was read from (to word a refusal), the normalised tags and their hash,
    # resolved to tagset_id once per chunk.
    line: int = 0
    tag_hash: str = ""
    tags: dict | None = None
    # detail_tags as JSON text, for COPY (shared between records with the same detail tags).
    detail_json: str = "{}"


@dataclass(slots=True)
class StagedChunk:
    """The expensive, database-free half of writing a chunk, done off the main thread (see
    ``ingest._prepared_chunks``): the records unique by event key in event-key order, their COPY
    text and their cube totals. Tag set ids are only known once the main thread has resolved the
    tag sets, so the text and the cube keys carry the tag hash in their place."""

    records: list[PreparedRecord]
    in_chunk_duplicates: int
    copy_tails: list[str] | None = None  # per record: its COPY line after the leading tagset_id
    cube: dict[tuple, list[int]] | None = None  # CUBE_KEY with the tag hash for tagset_id
    detail: dict[tuple, list[int]] | None = None
    source_days: dict[tuple, list[int]] | None = None  # SOURCE_DAY_KEY cells


def stage_chunk(records: list[PreparedRecord], *, for_copy: bool) -> StagedChunk:
    """Deduplicate and order a chunk; with ``for_copy`` (PostgreSQL) also format its COPY text and fold
    its cube cells, so the main thread only substitutes tag set ids and writes."""
    unique: dict[tuple[str, date], PreparedRecord] = {}
    for record in records:
        unique.setdefault(event_key(record), record)
    ordered = sorted(unique.values(), key=event_key)
    staged = StagedChunk(records=ordered, in_chunk_duplicates=len(records) - len(unique))
    if for_copy:
        staged.copy_tails = [_copy_tail(r) for r in ordered]
        staged.cube, staged.detail = cube_totals(ordered, by_hash=True)
        staged.source_days = source_day_totals(ordered)
    return staged


@dataclass(slots=True)
class Written:
    accepted: int
    estimated_nano: int
    unpriced: int
    # Rows refused because a sum they feed would leave the 64-bit range: (record, field, message).
    refused: list | None = None
    # The change of the estimate per currency (new rows, plus new minus old of replaced buckets).
    by_currency: dict[str, int] | None = None
    # Re-pulled buckets that replaced a stored one: (day, currency, old estimate, new estimate) each.
    replaced: list[tuple] | None = None


# The CHECK constraints on the cube tables' sums (models.DailyUsage / DailyDetailUsage) end in this.
SUMS_CHECK_SUFFIX = "_sums_in_range"


class _SumOverflow(Exception):
    pass


def _overflowed(exc: BaseException) -> bool:
    """Whether a write failed because a sum left the 64-bit range (and not for any other reason)."""
    if isinstance(exc, _SumOverflow | OverflowError):  # OverflowError: sqlite3 refuses ints over 64 bits
        return True
    for error in (exc, exc.__cause__):
        if getattr(error, "sqlstate", None) == "22003":  # PostgreSQL numeric_value_out_of_range
            return True
    return isinstance(exc, IntegrityError) and SUMS_CHECK_SUFFIX in str(exc)


class RecordWriter:
    """Writes a job's chunks and their cube cells; remembers whether the job has met stored rows."""

    def __init__(self) -> None:
        self.overlapping = False

    def write(self, staged: StagedChunk, tagset_ids: dict[str, int], *, job_total: int = 0) -> Written:
        """Insert what is new and add it to the cubes, in the caller's transaction. The records' tag set
        ids are resolved already (``ingest._resolve_tagsets``). ``job_total`` is the job's estimated
        cost so far: it is a sum too, and must stay in range with this chunk added."""
        if not staged.records:
            return Written(0, 0, 0)
        ensure_months({r.day for r in staged.records})  # made before the chunk's transaction by ingest: a check
        try:
            with transaction.atomic():
                written = self._write(staged, tagset_ids)
                if not within_sum(job_total + written.estimated_nano):
                    raise _SumOverflow()
                return written
        except Exception as exc:
            if not _overflowed(exc):
                raise
        return self._write_checked(staged, tagset_ids, job_total)

    def _write_checked(self, staged: StagedChunk, tagset_ids: dict[str, int], job_total: int) -> Written:
        """The chunk again, each new row admitted only if every sum it feeds stays in range."""
        stored = _existing_keys(staged.records)
        new = [r for r in staged.records if event_key(r) not in stored]
        admitted, refused = _admit(new, job_total)
        admitted.sort(key=event_key)
        written = self._write(StagedChunk(records=admitted, in_chunk_duplicates=0), tagset_ids)
        written.refused = refused
        return written

    def _write(self, staged: StagedChunk, tagset_ids: dict[str, int]) -> Written:
        records = staged.records
        if not records:
            return Written(0, 0, 0)
        if records[0].source in REPLACEABLE_SOURCES:
            return _write_replacing(records)
        if not uses_copy():
            inserted_keys = _insert_generic(records)
        else:
            tails = staged.copy_tails or [_copy_tail(r) for r in records]
            lines = [f"{r.tagset_id}\t{tail}" for r, tail in zip(records, tails, strict=True)]
            if not self.overlapping and staged.cube is not None:
                if _copy_all_or_nothing(lines):
                    return self._add_staged_cube(staged, tagset_ids)
                self.overlapping = True  # this file meets stored rows: let the database sort them out
            inserted_keys = _insert_postgresql(lines)
            if len(inserted_keys) == len(records) and staged.cube is not None:
                return self._add_staged_cube(staged, tagset_ids)  # every row was new: the folded cube holds
        inserted = [r for r in records if event_key(r) in inserted_keys]
        return _written(inserted, cube_add(inserted))

    @staticmethod
    def _add_staged_cube(staged: StagedChunk, tagset_ids: dict[str, int]) -> Written:
        cube = {(*key[:5], tagset_ids[key[5]], *key[6:]): sums for key, sums in staged.cube.items()}
        _add_to_cubes(cube, staged.detail, staged.source_days)
        return _written(staged.records, cube)


def uses_copy() -> bool:
    """Whether this database takes chunks through COPY (PostgreSQL), so staging formats COPY text."""
    return connection.vendor == "postgresql"


_ESTIMATED_AT = CUBE_SUMS.index("estimated_nano")
_CURRENCY_AT = CUBE_KEY.index("currency")


def _written(records: list[PreparedRecord], cube: dict[tuple, list[int]]) -> Written:
    """What a chunk stored, its estimate per currency read from its cube cells (few) rather than its rows."""
    by_currency: dict[str, int] = {}
    for key, sums in cube.items():
        by_currency[key[_CURRENCY_AT]] = by_currency.get(key[_CURRENCY_AT], 0) + sums[_ESTIMATED_AT]
    return Written(
        accepted=len(records),
        estimated_nano=sum(r.estimated_nano for r in records),
        unpriced=sum(1 for r in records if r.unpriced),
        by_currency=by_currency,
    )


def event_key(record: PreparedRecord) -> tuple[str, date]:
    """What makes an event one within its organisation and source (a chunk has one of each): the request id
    and the UTC day of ``occurred_at``. Also the order rows are written in (request ids in code-point order,
    as PostgreSQL's COLLATE "C" sorts them)."""
    return (record.request_id, record.day)


def _existing_keys(records: list[PreparedRecord]) -> set[tuple[str, date]]:
    """The event keys of these records that are stored already (one organisation and source a chunk)."""
    if not records:
        return set()
    first = records[0]
    existing = set()
    keys = sorted({event_key(r) for r in records})
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        existing.update(
            UsageRecord.objects.filter(
                organization_id=first.organization_id,
                source=first.source,
                request_id__in={request_id for request_id, _day in batch},
                day__in={day for _request_id, day in batch},
            ).values_list("request_id", "day")
        )
    return existing & set(keys)


def _insert_generic(records: list[PreparedRecord]) -> set[tuple[str, date]]:
    existing = _existing_keys(records)
    new = [r for r in records if event_key(r) not in existing]
    UsageRecord.objects.bulk_create(
        [UsageRecord(**{c: getattr(r, c) for c in RECORD_COLUMNS}) for r in new], batch_size=500
    )
    return {event_key(r) for r in new}


_STAGE = "usage_record_stage"


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\t" in value or "\n" in value or "\r" in value


def _text(value: str) -> str:
    """A string as a field of COPY's text format."""
    if _needs_escape(value):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


_BOOL = {True: "t", False: "f"}
_NULL = "\\N"


def _copy_tail(r: PreparedRecord) -> str:
    """A row of COPY's text format after its leading tagset_id, columns in COPY_COLUMNS order (a
    formatted string is a third cheaper than psycopg's per-value adaptation, and this runs per row).
    ``source`` and ``service_tier`` come from fixed lists; the strings from the file are checked
    together and escaped only when one of them needs it."""
    request_id, provider, model, model_raw, detail, trace = (
        r.request_id,
        r.provider,
        r.model,
        r.model_raw,
        r.detail_json,
        r.trace_id,
    )
    if _needs_escape(request_id + provider + model + model_raw + detail + trace):
        request_id, provider, model, model_raw, detail, trace = map(
            _text, (request_id, provider, model, model_raw, detail, trace)
        )
    gateway = _NULL if r.gateway_cost_nano is None else r.gateway_cost_nano
    version = _NULL if r.price_book_version_id is None else r.price_book_version_id
    tools = _text(json.dumps(r.tool_calls_detail)) if r.tool_calls_detail else "{}"
    # context_window and currency come from fixed lists (the reader's, the price rows' codes).
    return (
        f"{r.organization_id}\t{r.job_id}\t{r.source}\t{request_id}\t{r.occurred_at.isoformat()}\t"
        f"{r.day.isoformat()}\t{provider}\t{model}\t{model_raw}\t{r.service_tier}\t"
        f"{detail}\t{trace}\t{_BOOL[r.is_retry]}\t{_BOOL[r.is_batch]}\t"
        f"{r.request_count}\t{r.input_tokens}\t{r.output_tokens}\t{r.cache_read_tokens}\t"
        f"{r.cache_write_5m_tokens}\t{r.cache_write_1h_tokens}\t"
        f"{r.input_audio_tokens}\t{r.output_audio_tokens}\t{r.input_image_tokens}\t{r.output_image_tokens}\t"
        f"{r.context_window}\t{r.tool_calls}\t{tools}\t"
        f"{r.cost_input_nano}\t{r.cost_output_nano}\t{r.cost_cache_read_nano}\t{r.cost_cache_write_nano}\t"
        f"{r.cost_tools_nano}\t{r.cost_audio_nano}\t{r.cost_image_nano}\t{r.estimated_nano}\t{gateway}\t"
        f"{r.currency}\t{version}\t{_BOOL[r.unpriced]}\t{_BOOL[r.missing_required_tags]}\n"
    )


def _copy_lines(cursor, table: str, lines: list[str]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
        for start in range(0, len(lines), 2000):
            copy.write("".join(lines[start : start + 2000]))


def _copy_all_or_nothing(lines: list[str]) -> bool:
    """COPY the chunk straight into the table; False (and nothing written) if the COPY failed.

    Whatever the failure: a row already there is UniqueViolation on PostgreSQL and InternalError (XX000) on
    Citus, and the caller's staging path sorts out the duplicates either way, or meets the same failure
    again if it was something else, and raises it."""
    import psycopg

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy_lines(cursor, UsageRecord._meta.db_table, lines)
    except (psycopg.DatabaseError, DatabaseError):
        return False
    return True


def _insert_postgresql(lines: list[str]) -> set[tuple[str, date]]:
    """Stage the chunk's COPY lines and let the idempotency key decide which are new; returns their event
    keys. Rows go in in the same order as the direct COPY's (request id in code-point order, COLLATE "C",
    then day), so a job on either path waits on another in one direction only."""
    table = UsageRecord._meta.db_table
    columns = ", ".join(RECORD_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")
        _copy_lines(cursor, _STAGE, lines)
        cursor.execute(
            f'INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGE} ORDER BY request_id COLLATE "C", day '
            "ON CONFLICT (organization_id, source, request_id, day) DO NOTHING RETURNING request_id, day"
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _sums(record: PreparedRecord) -> tuple:
    return (
        1,
        record.request_count,
        1 if record.unpriced else 0,
        record.input_tokens,
        record.output_tokens,
        record.cache_read_tokens,
        record.cache_write_5m_tokens + record.cache_write_1h_tokens,
        record.tool_calls,
        record.input_audio_tokens + record.output_audio_tokens,
        record.input_image_tokens + record.output_image_tokens,
        record.cost_input_nano,
        record.cost_output_nano,
        record.cost_cache_read_nano,
        record.cost_cache_write_nano,
        record.cost_tools_nano,
        record.cost_audio_nano,
        record.cost_image_nano,
        record.estimated_nano,
        record.gateway_cost_nano or 0,
    )


def _upsert(table: str, key_columns: tuple, cells: dict[tuple, list[int]], sum_columns: tuple = CUBE_SUMS) -> int:
    if not cells:
        return 0
    columns = key_columns + sum_columns
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sum_columns)
    conflict = f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    # A fixed order of cells keeps two concurrent ingests from locking them in opposite orders.
    # (Every key of a table has the same column types, so keys compare as plain tuples.)
    params = [key + tuple(sums) for key, sums in sorted(cells.items())]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One COPY and one set-based merge instead of a statement per cell.
            stage = f"{table}_stage"
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {stage}")
            with cursor.cursor.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage} "
                f"ORDER BY {', '.join(key_columns)} {conflict}"
            )
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) {conflict}", params)
    return len(params)


def cube_totals(records: list[PreparedRecord], *, by_hash: bool = False) -> tuple[dict, dict]:
    """The records folded into DailyUsage cells (CUBE_KEY) and, for their detail tags (e.g. customer),
    DailyDetailUsage cells (DETAIL_KEY): {key: sums in CUBE_SUMS order}. ``by_hash`` keys the cube by
    tag hash instead of tag set id (before the tag sets are resolved)."""
    cube: dict[tuple, list[tuple]] = {}
    detail: dict[tuple, list[tuple]] = {}
    for r in records:
        sums = _sums(r)
        tagset = r.tag_hash if by_hash else r.tagset_id
        key = (
            r.organization_id,
            r.day,
            r.provider,
            r.model,
            r.service_tier,
            tagset,
            r.is_retry,
            r.is_batch,
            r.currency,
        )
        cell = cube.get(key)
        if cell is None:
            cube[key] = [sums]
        else:
            cell.append(sums)
        if r.detail_tags:
            team = (r.tags or {}).get("team", "")
            for dimension, value in r.detail_tags.items():
                key = (r.organization_id, r.day, dimension, value, team, r.currency)
                cell = detail.get(key)
                if cell is None:
                    detail[key] = [sums]
                else:
                    cell.append(sums)
    return _totals(cube), _totals(detail)


def source_day_totals(records: list[PreparedRecord], sign: int = 1) -> dict[tuple, list[int]]:
    """The records folded into UsageSourceDay cells (SOURCE_DAY_KEY: {key: sums in SOURCE_DAY_SUMS order})."""
    cells: dict[tuple, list[int]] = {}
    for r in records:
        key = (r.organization_id, r.day, r.provider, r.model, r.source, r.currency)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = [0, 0, 0, 0, 0]
        cell[0] += sign
        cell[1] += sign * r.request_count
        cell[2] += sign * r.input_tokens
        cell[3] += sign * r.output_tokens
        cell[4] += sign * r.estimated_nano
    return cells


def cube_add(records: list[PreparedRecord]) -> dict[tuple, list[int]]:
    """Add the inserted records to the DailyUsage cube, DailyDetailUsage and the source days. Returns the
    cube cells added (CUBE_KEY)."""
    cube, detail = cube_totals(records)
    _add_to_cubes(cube, detail, source_day_totals(records))
    return cube


def _add_to_cubes(cube: dict[tuple, list[int]], detail: dict[tuple, list[int]], source_days: dict | None) -> int:
    """The one place the cube is written: its cells, its detail cells, their monthly rollups
    (``apps.usage.rollups``) and the source days. Returns the number of cube cells touched."""
    touched = _upsert(DailyUsage._meta.db_table, CUBE_KEY, cube)
    _upsert(DailyDetailUsage._meta.db_table, DETAIL_KEY, detail)
    rollups_add(cube=cube, detail=detail, upsert=_upsert)
    if source_days:
        _upsert(UsageSourceDay._meta.db_table, SOURCE_DAY_KEY, source_days, SOURCE_DAY_SUMS)
    return touched


# --- re-pulled provider buckets ------------------------------------------------------------------


def _stored_for_update(records: list[PreparedRecord]) -> dict[tuple[str, date], dict]:
    """The stored rows of these records' event keys, locked (PostgreSQL) until the chunk commits, with
    their id and every record column, by event key."""
    first = records[0]
    stored: dict[tuple[str, date], dict] = {}
    keys = sorted({event_key(r) for r in records})
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        rows = (
            UsageRecord.objects.select_for_update()
            .filter(
                organization_id=first.organization_id,
                source=first.source,
                request_id__in={request_id for request_id, _day in batch},
                day__in={day for _request_id, day in batch},
            )
            .order_by("request_id", "day")
            .values("id", *RECORD_COLUMNS)
        )
        wanted = set(batch)
        for row in rows:
            key = (row["request_id"], row["day"])
            if key in wanted:
                stored[key] = row
    return stored


def _as_prepared(row: dict, tags: dict) -> PreparedRecord:
    return PreparedRecord(**{c: row[c] for c in RECORD_COLUMNS}, tags=tags)


def _write_replacing(records: list[PreparedRecord]) -> Written:
    """A chunk of a replaceable source (small: provider buckets), on the general path on either database:
    new buckets are inserted, a bucket equal to the stored one is a duplicate, a bucket with other figures
    replaces the stored row in place and moves the cube, rollup and source-day cells by the difference."""
    stored = _stored_for_update(records)
    new, changed = [], []
    for record in records:
        old = stored.get(event_key(record))
        if old is None:
            new.append(record)
        elif any(old[c] != getattr(record, c) for c in _COMPARED):
            changed.append((old, record))
    inserted = []
    if new:
        if uses_copy():
            # ON CONFLICT: a bucket another job stored since the read above is a duplicate, not an error.
            keys = _insert_postgresql([f"{r.tagset_id}\t{_copy_tail(r)}" for r in new])
            inserted = [r for r in new if event_key(r) in keys]
        else:
            inserted = new
            UsageRecord.objects.bulk_create(
                [UsageRecord(**{c: getattr(r, c) for c in RECORD_COLUMNS}) for r in new], batch_size=500
            )
    old_records = []
    if changed:
        team_of = dict(
            TagSet.objects.filter(
                organization_id=records[0].organization_id, pk__in={old["tagset_id"] for old, _r in changed}
            ).values_list("pk", "tags")
        )
        for old, record in changed:
            UsageRecord.objects.filter(organization_id=record.organization_id, pk=old["id"], day=old["day"]).update(
                **{c: getattr(record, c) for c in _UPDATED}
            )
            old_records.append(_as_prepared(old, team_of.get(old["tagset_id"]) or {}))
    added = inserted + [record for _old, record in changed]
    cube, detail = cube_totals(added)
    source_days = source_day_totals(added)
    for cells, removed in zip((cube, detail), cube_totals(old_records), strict=True):
        _subtract(cells, removed)
    _subtract(source_days, source_day_totals(old_records))
    _add_to_cubes(cube, detail, source_days)
    written = _written(added, cube)
    written.accepted = len(inserted)
    written.estimated_nano = sum(r.estimated_nano for r in added) - sum(r.estimated_nano for r in old_records)
    written.unpriced = sum(1 for r in added if r.unpriced) - sum(1 for r in old_records if r.unpriced)
    written.replaced = [(r.day, r.currency, old["estimated_nano"], r.estimated_nano) for old, r in changed]
    return written


def _subtract(cells: dict[tuple, list[int]], removed: dict[tuple, list[int]]) -> None:
    for key, sums in removed.items():
        cell = cells.setdefault(key, [0] * len(sums))
        for index, value in enumerate(sums):
            cell[index] -= value


def _totals(cells: dict[tuple, list[tuple]]) -> dict[tuple, list[int]]:
    return {key: [sum(column) for column in zip(*rows, strict=True)] for key, rows in cells.items()}


def _cells(table: str, key_columns: tuple, organization_id: int, days: set, extra: str = "", params=()) -> dict:
    """The current sums of a cube table's cells on these days, by key (locked on PostgreSQL)."""
    if not days:
        return {}
    columns = ", ".join(key_columns + CUBE_SUMS)
    marks = ", ".join(["%s"] * len(days))
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE organization_id = %s AND day IN ({marks}){extra}{lock}",
            [organization_id, *sorted(days), *params],
        )
        width = len(key_columns)
        return {tuple(row[:width]): list(row[width:]) for row in cursor.fetchall()}


def _admit(records: list[PreparedRecord], job_total: int) -> tuple[list[PreparedRecord], list[tuple]]:
    """Split new records into those whose cube cells, detail cells and job total stay within ±MAX_SUM
    when added (in line order) and those refused, as (record, field, message)."""
    if not records:
        return [], []
    organization_id = records[0].organization_id
    days = {r.day for r in records}
    cube = _cells(DailyUsage._meta.db_table, CUBE_KEY, organization_id, days)
    dimensions = sorted({d for r in records for d in r.detail_tags})
    detail = {}
    if dimensions:
        marks = ", ".join(["%s"] * len(dimensions))
        detail = _cells(
            DailyDetailUsage._meta.db_table,
            DETAIL_KEY,
            organization_id,
            days,
            f" AND dimension IN ({marks})",
            dimensions,
        )
    months = month_cells(records)
    admitted, refused = [], []
    for record in sorted(records, key=lambda r: r.line):
        sums = _sums(record)
        key = (
            record.organization_id,
            record.day,
            record.provider,
            record.model,
            record.service_tier,
            record.tagset_id,
            record.is_retry,
            record.is_batch,
            record.currency,
        )
        team = (record.tags or {}).get("team", "")
        targets = [(cube, key, f"the {record.day} total of {record.provider} {record.model}")]
        targets += [
            (
                detail,
                (organization_id, record.day, dimension, value, team, record.currency),
                f"the {record.day} total of {dimension} {value}",
            )
            for dimension, value in record.detail_tags.items()
        ]
        targets += month_targets(record, team, months)
        problem = None
        updated = []
        for table, cell_key, label in targets:
            current = table.get(cell_key) or [0] * len(CUBE_SUMS)
            candidate = [a + b for a, b in zip(current, sums, strict=True)]
            over = next((c for c, v in zip(CUBE_SUMS, candidate, strict=True) if not within_sum(v)), None)
            if over:
                problem = (over, label)
                break
            updated.append((table, cell_key, candidate))
        if problem is None and not within_sum(job_total + record.estimated_nano):
            problem = ("estimated_nano", "this file's total")
        if problem is not None:
            column, label = problem
            refused.append(
                (
                    record,
                    "usage",
                    f"adding this row would take {label} ({column}) beyond the largest sum that can be stored "
                    f"({MAX_SUM:,}); the row is refused",
                )
            )
            continue
        for table, cell_key, candidate in updated:
            table[cell_key] = candidate
        job_total += record.estimated_nano
        admitted.append(record)
    return admitted, refused
