"""Usage ingestion: receive bytes, then read them in resumable, idempotent chunks.

``ingest_job_create`` keeps the payload and queues a job; ``ingest_job_run`` (the Celery task's body)
reads it. Each chunk of lines commits in one transaction: its new records, their cube cells, its
rejected-row errors and the job's checkpoint (``lines_done``). A worker killed mid-file loses nothing:
running the job again skips the committed lines and carries on; the (organisation, source, request id, day)
unique key makes every record land once even if two jobs overlap. Each commit is also the job's heartbeat:
a job whose worker stops beating is marked interrupted by the sweeper (``apps/ingest/jobs.py``) and retried.
"""

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import BinaryIO

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.ceilings import MAX_AMOUNT_NANO_PER_ROW
from apps.core.failures import failure_text
from apps.core.money import decimal_to_nano, nano_to_decimal
from apps.ingest.jobs import job_enqueue, job_finish, job_mark_running, job_scope
from apps.ingest.payloads import ingest_job_receive, payload_open, payload_prescan
from apps.ingest.rows import RowProblem
from apps.pricing.estimator import PriceBook
from apps.pricing.selectors import price_book_for
from apps.taxonomy.models import Granularity, TagDimension
from apps.taxonomy.normalise import normalise_key, tagset_hash
from apps.taxonomy.services import tag_normaliser_for, tagsets_get_or_create
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import IngestError, IngestJob, SourceMapping, UsageRecord
from apps.usage.parsers import FileRefused, RowError, UsageEvent, detect_format, reader_for
from apps.usage.parsers.canonical import event_from_object
from apps.usage.partitions import ensure_months
from apps.usage.pipeline import run_ahead
from apps.usage.writer import PreparedRecord, RecordWriter, StagedChunk, stage_chunk, uses_copy

from .late_data import flag_late_usage

logger = logging.getLogger(__name__)

PROVIDER_MAX_LENGTH = UsageRecord._meta.get_field("provider").max_length
MODEL_MAX_LENGTH = UsageRecord._meta.get_field("model").max_length
# Lines per committed chunk: a twentieth of the file (so the progress bar moves), at least MIN and at
# most MAX. Bigger chunks fold more rows into each cube cell (fewer upserts) at the cost of memory:
# MAX_CHUNK_LINES prepared rows are about 50 MB. INGEST_CHUNK_LINES fixes the size (tests, tuning).
MIN_CHUNK_LINES = 2_000
MAX_CHUNK_LINES = 50_000
CHUNK_LINES = int(os.environ.get("INGEST_CHUNK_LINES", "0")) or None
MAX_STORED_ERRORS = 1000
DETAIL_CACHE_SIZE = 200_000
# What the audit event of a finished usage job records besides its message.
FINISH_AUDIT_FIELDS = ("rows_total", "accepted", "duplicates", "rejected", "estimated_nano")
FORMAT_CHOICES = ("auto", "ndjson", "json", "csv", "openai-usage", "anthropic-usage", "litellm")


class ConcurrentRunError(Exception):
    """Another runner advanced this job's checkpoint first, or took the job over (a retry), or the job was
    marked interrupted; this runner stops without writing."""


@tenant_scoped
def ingest_job_create(
    *,
    organization: Organization,
    actor,
    file_name: str,
    stream: BinaryIO,
    format: str = "auto",
    channel: str,
    idempotency_key: str | None = None,
    enqueue: bool = True,
) -> tuple[IngestJob, bool]:
    """Keep the bytes and queue a job. Returns (job, created); with a known Idempotency-Key and the
    same body the earlier job is returned and nothing new happens."""
    job, created = ingest_job_receive(
        job_model=IngestJob,
        organization=organization,
        actor=actor,
        file_name=file_name,
        stream=stream,
        format=format,
        format_choices=FORMAT_CHOICES,
        channel=channel,
        idempotency_key=idempotency_key,
        audit_action="usage.ingest_received",
    )
    if created and enqueue:
        job_enqueue(job)
    return job, created


@dataclass
class _Context:
    organization: Organization
    job: IngestJob
    source: str
    normaliser: object
    price_book: PriceBook
    mappings: dict
    tag_cache: dict
    tagset_ids: dict
    detail_keys: frozenset = frozenset()
    detail_cache: dict = field(default_factory=dict)
    key_cache: dict = field(default_factory=dict)
    json_cache: dict = field(default_factory=dict)
    writer: RecordWriter = field(default_factory=RecordWriter)

    def _key(self, raw_key) -> str:
        key = self.key_cache.get(raw_key)
        if key is None:
            if len(self.key_cache) > DETAIL_CACHE_SIZE:
                self.key_cache.clear()
            key = self.key_cache[raw_key] = normalise_key(str(raw_key))
        return key

    def _detail_value(self, key: str, raw) -> str | None:
        # Strings by value; anything else by type and repr (so "['a']" and ['a'] stay apart).
        cache_key = (key, raw) if type(raw) is str else (key, type(raw), repr(raw))
        value = self.detail_cache.get(cache_key, self)
        if value is self:
            if len(self.detail_cache) > DETAIL_CACHE_SIZE:
                self.detail_cache.clear()  # bounded memory whatever the cardinality
            try:
                value = self.detail_cache[cache_key] = self.normaliser.normalise_value(key, raw)
            except ValueError as exc:
                raise RowProblem("tags", str(exc)) from exc
        return value

    def _tags(self, event: UsageEvent) -> tuple[str, dict, dict, bool, str]:
        """(tag set hash, tag set tags, detail tags, missing a required tag, detail tags as JSON).

        Tags of detail dimensions (e.g. customer) go on the record only; the rest form the tag set,
        normalised once per distinct combination."""
        raw_tags = event.tags
        if event.mapping_keys:
            raw_tags = dict(raw_tags)
            for key in event.mapping_keys:
                for name, value in self.mappings.get(key, {}).items():
                    raw_tags.setdefault(name, value)
        cube_raw: list[tuple] = []
        detail_tags: dict[str, str] = {}
        plain = True
        for raw_key, raw in raw_tags.items():
            key = self._key(raw_key)
            if key in self.detail_keys:
                value = self._detail_value(key, raw)
                if value is not None:
                    detail_tags[key] = value
            else:
                cube_raw.append((raw_key, raw))
                plain = plain and type(raw) is str
        if "provider" not in raw_tags:
            cube_raw.append(("provider", event.provider))
        # The same tags in any order are one combination; non-string values are keyed by their repr
        # (1, 1.0 and True hash alike but normalise differently).
        cache_key = frozenset(cube_raw) if plain else tuple(sorted((str(k), repr(v)) for k, v in cube_raw))
        cached = self.tag_cache.get(cache_key)
        if cached is None:
            try:
                normalised = self.normaliser.normalise(dict(cube_raw))
            except ValueError as exc:
                raise RowProblem("tags", str(exc)) from exc
            cached = (tagset_hash(normalised.tags), normalised.tags, frozenset(normalised.missing_required))
            if len(self.tag_cache) > DETAIL_CACHE_SIZE:
                self.tag_cache.clear()
            self.tag_cache[cache_key] = cached
        tag_hash, tags, missing = cached
        return tag_hash, tags, detail_tags, bool(missing - detail_tags.keys()), self._detail_json(detail_tags)

    def _detail_json(self, detail_tags: dict) -> str:
        if not detail_tags:
            return "{}"
        key = tuple(detail_tags.items())
        text = self.json_cache.get(key)
        if text is None:
            if len(self.json_cache) > DETAIL_CACHE_SIZE:
                self.json_cache.clear()
            text = self.json_cache[key] = json.dumps(detail_tags)
        return text

    def prepare(self, event: UsageEvent) -> PreparedRecord:
        if len(event.provider) > PROVIDER_MAX_LENGTH:  # lower-casing can lengthen some letters
            raise RowProblem("provider", f"is longer than {PROVIDER_MAX_LENGTH} characters")
        tag_hash, tags, detail_tags, missing_required, detail_json = self._tags(event)
        day = event.occurred_at.date()
        estimate = self.price_book.estimate(
            provider=event.provider,
            model=event.model,
            service_tier=event.service_tier,
            occurred_on=day,
            usage={
                "input_tokens": event.input_tokens,
                "output_tokens": event.output_tokens,
                "cache_read_tokens": event.cache_read_tokens,
                "cache_write_5m_tokens": event.cache_write_5m_tokens,
                "cache_write_1h_tokens": event.cache_write_1h_tokens,
                "input_audio_tokens": event.input_audio_tokens,
                "output_audio_tokens": event.output_audio_tokens,
                "input_image_tokens": event.input_image_tokens,
                "output_image_tokens": event.output_image_tokens,
            },
            tool_calls=event.tool_calls,
            context_window=event.context_window,
            region_scope=event.region_scope,
        )
        costs = estimate.cost_nano
        if estimate.total_nano > MAX_AMOUNT_NANO_PER_ROW:  # each cost source is >= 0, so this bounds them all
            raise RowProblem(
                "usage",
                f"its price-book cost ({nano_to_decimal(estimate.total_nano):f} {self.job.currency}) is beyond the "
                f"ceiling of {nano_to_decimal(MAX_AMOUNT_NANO_PER_ROW):,.0f} per row; check the token counts",
            )
        model = estimate.model or event.model.lower()
        if len(model) > MODEL_MAX_LENGTH:  # an unknown model is stored under its own id
            raise RowProblem("model", f"is not a known model and longer than {MODEL_MAX_LENGTH} characters")
        gateway_nano = None
        if event.gateway_cost is not None:
            gateway_nano = decimal_to_nano(event.gateway_cost)  # bounded by the reader (as_amount)
        record = PreparedRecord(
            line=event.line,
            organization_id=self.job.organization_id,
            job_id=self.job.id,
            source=self.source,
            request_id=event.request_id,
            occurred_at=event.occurred_at,
            day=day,
            provider=event.provider,
            model=model,
            model_raw=event.model,
            service_tier=event.service_tier,
            tagset_id=0,
            detail_tags=detail_tags,
            trace_id=event.trace_id,
            is_retry=event.is_retry,
            is_batch=event.is_batch,
            request_count=event.request_count,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cache_read_tokens=event.cache_read_tokens,
            cache_write_5m_tokens=event.cache_write_5m_tokens,
            cache_write_1h_tokens=event.cache_write_1h_tokens,
            tool_calls=sum(event.tool_calls.values()),
            tool_calls_detail=event.tool_calls,
            cost_input_nano=costs.get("input", 0),
            cost_output_nano=costs.get("output", 0),
            cost_cache_read_nano=costs.get("cache_read", 0),
            cost_cache_write_nano=costs.get("cache_write", 0),
            cost_tools_nano=costs.get("tool_calls", 0),
            estimated_nano=estimate.total_nano,
            gateway_cost_nano=gateway_nano,
            unpriced=bool(estimate.unpriced),
            missing_required_tags=missing_required,
            tag_hash=tag_hash,
            tags=tags,
            detail_json=detail_json,
        )
        return record


def _context_for(job: IngestJob, source: str) -> _Context:
    organization = job.organization
    mappings = {(m.kind, m.external_id): m.tags for m in SourceMapping.objects.all()}
    return _Context(
        organization=organization,
        job=job,
        source=source,
        normaliser=tag_normaliser_for(organization=organization),
        price_book=price_book_for(organization=organization),
        mappings=mappings,
        tag_cache={},
        tagset_ids={},
        detail_keys=frozenset(
            TagDimension.objects.filter(is_active=True, granularity=Granularity.DETAIL).values_list("key", flat=True)
        ),
    )


def ingest_job_run(*, job_id: int) -> IngestJob:
    """Read (or finish reading) a job's payload. Safe to call again at any point."""
    with job_scope(IngestJob, job_id) as job:
        if job.is_finished:
            return job
        job = job_mark_running(job=job)
        if job.is_finished:  # another runner finished it meanwhile
            return job
        try:
            if not job.source:
                job = _prepare(job)
                if job.is_finished:
                    return job
            _read(job)
        except ConcurrentRunError:
            logger.info("ingest job %s is being run elsewhere; this runner stops", job.pk)
            return IngestJob.objects.get(pk=job.pk)
        except Exception as exc:
            logger.exception("ingest job %s failed", job.pk)
            job = _finish(
                job,
                status=IngestJob.Status.FAILED,
                message=f"{failure_text(exc)}. Lines stored before this are kept; Retry resumes after them.",
            )
            flag_late_usage(job=job)  # committed chunks are kept: a period past open must know
            raise
        job = _finish(job, status=IngestJob.Status.SUCCEEDED)
    flag_late_usage(job=job)
    return job


def _prepare(job: IngestJob) -> IngestJob:
    """Whole-file checks before the first write: readable, UTF-8, non-empty, a known format."""
    try:
        prescan = payload_prescan(job.payload)
        format_name = job.format if job.format != "auto" else detect_format(prescan.head, job.file_name)
        _reader, source = reader_for(format_name)
    except FileRefused as refused:
        return _finish(job, status=IngestJob.Status.FAILED, message=str(refused))
    IngestJob.objects.filter(pk=job.pk).update(
        format=format_name, source=source, lines_expected=prescan.lines, currency="USD", heartbeat_at=timezone.now()
    )
    job.format, job.source, job.lines_expected, job.currency = format_name, source, prescan.lines, "USD"
    return job


@dataclass
class _Chunk:
    staged: StagedChunk
    errors: list[RowError]
    last_line: int


def _chunk_lines(lines_expected: int) -> int:
    if CHUNK_LINES:
        return CHUNK_LINES
    return max(MIN_CHUNK_LINES, min(MAX_CHUNK_LINES, lines_expected // 20))


def _read(job: IngestJob) -> None:
    reader, source = reader_for(job.format)
    context = _context_for(job, source)
    chunks = _prepared_chunks(context, reader, job, for_copy=uses_copy())
    with closing(run_ahead(chunks, name=f"ingest-{job.pk}-reader")) as ahead:
        for chunk in ahead:
            first = job.lines_done + 1
            try:
                _commit_chunk(context, chunk)
            except ConcurrentRunError:
                raise
            except Exception as exc:
                exc.add_note(f"while storing lines {first}-{chunk.last_line}")
                raise


def _prepared_chunks(context: _Context, reader, job: IngestJob, *, for_copy: bool) -> Iterator[_Chunk]:
    """Parse, price and stage the payload chunk by chunk. Pure Python, no database: it runs in a
    thread of its own while the previous chunk is being written."""
    chunk_lines = _chunk_lines(job.lines_expected)
    prepared: list[PreparedRecord] = []
    errors: list[RowError] = []
    done = job.lines_done  # read once: the main thread moves job.lines_done on as it commits
    chunk_start = last_line = done
    prepare = context.prepare
    with payload_open(job.payload) as stream, _noting(lambda: f"while reading the file after line {last_line}"):
        for item in reader(stream):
            line = item.line
            if line <= done:
                continue  # committed by an earlier run
            if line - chunk_start > chunk_lines and (prepared or errors):
                yield _Chunk(stage_chunk(prepared, for_copy=for_copy), errors, last_line)
                prepared, errors, chunk_start = [], [], last_line
            if isinstance(item, RowError):
                errors.append(item)
            else:
                try:
                    prepared.append(prepare(item))
                except RowProblem as problem:
                    errors.append(RowError(line, problem.field, problem.message))
            if line > last_line:
                last_line = line
    yield _Chunk(stage_chunk(prepared, for_copy=for_copy), errors, max(last_line, job.lines_expected))


@contextmanager
def _noting(where):
    """Adds ``where()`` as a note to an exception passing through (failure_text words it)."""
    try:
        yield
    except Exception as exc:
        exc.add_note(where())
        raise


def _commit_chunk(context: _Context, chunk: _Chunk) -> None:
    job = context.job
    staged, errors, last_line = chunk.staged, chunk.errors, chunk.last_line
    _resolve_tagsets(context, staged.records)
    # The months of the chunk exist before its transaction (a new month is attached in a short one of its own).
    ensure_months({record.day for record in staged.records})
    with transaction.atomic():
        locked = IngestJob.objects.select_for_update().get(organization_id=job.organization_id, pk=job.pk)
        if (
            locked.lines_done != job.lines_done
            or locked.status != IngestJob.Status.RUNNING  # finished, or marked interrupted by the sweeper
            or locked.attempts != job.attempts  # a retry took the job over
        ):
            raise ConcurrentRunError()
        written = context.writer.write(staged, context.tagset_ids, job_total=locked.estimated_nano)
        if written.refused:
            errors = errors + [RowError(r.line, field, message) for r, field, message in written.refused]
        refused = len(written.refused or ())
        room = max(0, MAX_STORED_ERRORS - IngestError.objects.filter(job=job).count())
        IngestError.objects.bulk_create(
            [
                IngestError(
                    organization=context.organization,
                    job=job,
                    line=e.line,
                    field=e.field[:100],
                    message=e.message[:500],
                )
                for e in sorted(errors, key=lambda e: e.line)[:room]
            ]
        )
        accepted = written.accepted
        duplicates = len(staged.records) - refused - accepted + staged.in_chunk_duplicates
        cost = written.estimated_nano
        unpriced = written.unpriced
        IngestJob.objects.filter(pk=job.pk).update(
            rows_total=F("rows_total") + accepted + duplicates + len(errors),
            accepted=F("accepted") + accepted,
            duplicates=F("duplicates") + duplicates,
            rejected=F("rejected") + len(errors),
            estimated_nano=F("estimated_nano") + cost,
            unpriced_rows=F("unpriced_rows") + unpriced,
            lines_done=last_line,
            heartbeat_at=timezone.now(),
        )
    job.lines_done = last_line


def _resolve_tagsets(context: _Context, prepared: list[PreparedRecord]) -> None:
    missing = {r.tag_hash: r.tags for r in prepared if r.tag_hash not in context.tagset_ids}
    if missing:
        context.tagset_ids.update(
            tagsets_get_or_create(organization=context.organization, tag_dicts=list(missing.values()))
        )
    for record in prepared:
        record.tagset_id = context.tagset_ids[record.tag_hash]


def _finish(job: IngestJob, *, status: str, message: str = "") -> IngestJob:
    return job_finish(job=job, status=status, message=message, audit_fields=FINISH_AUDIT_FIELDS)


@tenant_scoped
def ingest_events(
    *, organization: Organization, events: Iterable[dict], expected: int = 0, file_name: str = "events"
) -> IngestJob:
    """Store canonical usage events given as objects (not a file) the way ``ingest_job_run`` stores the same
    events read from an NDJSON file: the same parser, tag normalisation, pricing and chunk commit (records,
    cube, detail totals, checkpoint), in the chunks a file of ``expected`` lines gets. Returns the finished
    job (channel "command"). For loaders and benchmarks that hold valid events in memory already: an event
    that cannot be read or priced raises ``RowProblem`` instead of becoming a rejected row."""
    job = IngestJob.objects.create(
        organization=organization,
        channel=IngestJob.Channel.COMMAND,
        format="ndjson",
        source="events",
        file_name=file_name[:255],
        sha256="",
        payload="",
        status=IngestJob.Status.RUNNING,
        lines_expected=expected,
    )
    context = _context_for(job, job.source)
    events = iter(events)
    line = 0
    while chunk := list(islice(events, _chunk_lines(expected))):
        prepared = [context.prepare(event_from_object(obj, line + n)) for n, obj in enumerate(chunk, start=1)]
        line += len(chunk)
        _commit_chunk(context, _Chunk(stage_chunk(prepared, for_copy=uses_copy()), [], line))
    return _finish(job, status=IngestJob.Status.SUCCEEDED)


@tenant_scoped(via="job")
def ingest_job_summary(*, job: IngestJob, max_errors: int | None = None) -> dict:
    """The JSON the command prints (and the API returns)."""
    from apps.core.money import nano_to_decimal

    errors = IngestError.objects.filter(job=job).order_by("line", "id")
    if max_errors is not None:
        errors = errors[:max_errors]
    summary = {
        "job": job.pk,
        "status": "succeeded" if job.status == IngestJob.Status.SUCCEEDED else job.status,
        "rows_total": job.rows_total,
        "accepted": job.accepted,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
        "estimated_cost": _decimal_string(nano_to_decimal(job.estimated_nano)),
        "currency": job.currency,
        "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in errors],
    }
    if job.error_message:
        summary["message"] = job.error_message
    return summary


def _decimal_string(value) -> str:
    """Exact, without trailing zeros or exponent: Decimal("0.021250000") -> "0.02125"."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"
