"""The canonical usage event v1 (README, "Usage ingestion"), as NDJSON, as a JSON array, and as CSV."""

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, BinaryIO

import msgspec

from apps.core.ceilings import MAX_CALLS_PER_ROW, MAX_TOKENS_PER_ROW
from apps.core.limits import JSONStreamError, iter_json_array
from apps.ingest.rows import (
    MAX_LINE_BYTES,
    RowError,
    RowProblem,
    as_amount,
    as_bool,
    as_int,
    as_mapping,
    as_text,
    as_timestamp,
    csv_records,
    iter_lines,
    json_loads,
)

from .base import (
    CONTEXT_WINDOWS,
    MODALITY_FIELDS,
    REGION_SCOPES,
    SERVICE_TIERS,
    TOKEN_FIELDS,
    UsageEvent,
    as_context_window,
    as_region_scope,
    batch_tier,
    tool_counts,
)

USAGE_FIELDS = (*TOKEN_FIELDS, *MODALITY_FIELDS)


def event_from_object(obj, line: int) -> UsageEvent:
    if not isinstance(obj, dict):
        raise RowProblem("(row)", f"must be a JSON object, got {type(obj).__name__}")
    usage = as_mapping(obj.get("usage"), "usage")
    tier, is_batch = batch_tier(obj.get("service_tier"), as_bool(obj.get("is_batch"), "is_batch"))
    tags = as_mapping(obj.get("tags"), "tags")
    return UsageEvent(
        line=line,
        request_id=as_text(obj.get("request_id"), "request_id", required=True),
        occurred_at=as_timestamp(obj.get("occurred_at"), "occurred_at"),
        provider=as_text(obj.get("provider"), "provider", required=True, max_length=40).lower(),
        model=as_text(obj.get("model"), "model", required=True),
        service_tier=tier,
        tags=dict(tags),
        **{name: as_int(usage.get(name), f"usage.{name}") for name in USAGE_FIELDS},
        tool_calls=tool_counts(obj.get("tool_calls")),
        is_retry=as_bool(obj.get("is_retry"), "is_retry"),
        is_batch=is_batch,
        trace_id=as_text(obj.get("trace_id"), "trace_id"),
        gateway_cost=as_amount(obj.get("cost"), "cost"),
        context_window=as_context_window(obj.get("context_window")),
        region_scope=as_region_scope(obj.get("region_scope")),
    )


# The fast lane for well-formed NDJSON lines: one typed decode in C (msgspec) instead of a generic
# decode plus a check per field, about ten times faster. It accepts only a strict subset of what
# ``event_from_object`` accepts (whole non-negative numbers as numbers, strings as strings, tag values
# as strings), and its strings still go through the same field checks, so a line it takes becomes the
# same event. Anything else (a number as a string, a bad timestamp, invalid JSON...) falls back to the
# general path, which is the one that accepts leniently and words the errors.
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS_PER_ROW)]
_Calls = Annotated[int, msgspec.Meta(ge=0, le=MAX_CALLS_PER_ROW)]


class _StrictUsage(msgspec.Struct):
    input_tokens: _Count = 0
    output_tokens: _Count = 0
    cache_read_tokens: _Count = 0
    cache_write_5m_tokens: _Count = 0
    cache_write_1h_tokens: _Count = 0
    input_audio_tokens: _Count = 0
    output_audio_tokens: _Count = 0
    input_image_tokens: _Count = 0
    output_image_tokens: _Count = 0


class _StrictEvent(msgspec.Struct):
    request_id: str
    occurred_at: str
    provider: str
    model: str
    service_tier: str | None = None
    tags: dict[str, str] | None = None
    usage: _StrictUsage | None = None
    tool_calls: dict[str, _Calls] | None = None
    is_retry: bool | None = None
    is_batch: bool | None = None
    trace_id: str | None = None
    cost: Decimal | None = None
    context_window: str | None = None
    region_scope: str | None = None


_strict_decode = msgspec.json.Decoder(_StrictEvent).decode
_NO_USAGE = _StrictUsage()


def _plain(value: str, max_length: int = 200) -> bool:
    """A string as_text would keep exactly as it is: non-empty, trimmed, short enough, no NUL."""
    return 0 < len(value) <= max_length and not value[0].isspace() and not value[-1].isspace() and "\x00" not in value


def _strict_event(raw: bytes, line: int) -> UsageEvent | None:
    """The event for a well-formed line, or None to let the general path decide (it also words every
    error). Strings are taken only when ``as_text`` would leave them unchanged, tiers only when already
    canonical, so the event is the one ``event_from_object`` builds."""
    try:
        obj = _strict_decode(raw)
    except msgspec.MsgspecError:
        return None
    request_id, provider, model = obj.request_id, obj.provider, obj.model
    trace_id = obj.trace_id or ""
    tier = obj.service_tier or ("batch" if obj.is_batch else "standard")
    if not (
        _plain(request_id)
        and _plain(provider, 40)
        and _plain(model)
        and (not trace_id or _plain(trace_id))
        and tier in SERVICE_TIERS
        and (tier == "batch" or not obj.is_batch)  # a disagreement: the general path words it
        and (obj.context_window is None or obj.context_window in CONTEXT_WINDOWS)
        and (obj.region_scope is None or obj.region_scope in REGION_SCOPES)
    ):
        return None
    usage = obj.usage or _NO_USAGE
    return UsageEvent(
        line=line,
        request_id=request_id,
        occurred_at=as_timestamp(obj.occurred_at, "occurred_at"),
        provider=provider.lower(),
        model=model,
        service_tier=tier,
        tags=obj.tags or {},
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_5m_tokens=usage.cache_write_5m_tokens,
        cache_write_1h_tokens=usage.cache_write_1h_tokens,
        input_audio_tokens=usage.input_audio_tokens,
        output_audio_tokens=usage.output_audio_tokens,
        input_image_tokens=usage.input_image_tokens,
        output_image_tokens=usage.output_image_tokens,
        tool_calls=tool_counts(obj.tool_calls) if obj.tool_calls else {},
        is_retry=bool(obj.is_retry),
        is_batch=tier == "batch",
        trace_id=trace_id,
        gateway_cost=None if obj.cost is None else as_amount(obj.cost, "cost"),
        context_window=obj.context_window,
        region_scope=obj.region_scope or "",
    )


def read_ndjson(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    for line_no, raw in iter_lines(stream):
        if raw is None:
            yield RowError(line_no, "(line)", f"line is longer than {MAX_LINE_BYTES} bytes")
            continue
        if not raw.strip():
            continue
        try:
            event = _strict_event(raw, line_no)
            if event is not None:
                yield event
                continue
        except RowProblem:
            pass  # the general path words it
        try:
            obj = json_loads(raw)
        except ValueError as exc:
            yield RowError(line_no, "(json)", f"invalid JSON: {exc}")
            continue
        try:
            yield event_from_object(obj, line_no)
        except RowProblem as problem:
            yield RowError(line_no, problem.field, problem.message)


def read_json_array(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    """A JSON array body (the API accepts one); row numbers are 1-based positions in the array. Read one
    element at a time (never the whole array); after a syntax error the elements before it are kept."""
    try:
        for index, obj in iter_json_array(stream):
            try:
                yield event_from_object(obj, index)
            except RowProblem as problem:
                yield RowError(index, problem.field, problem.message)
    except JSONStreamError as exc:
        message = (
            "expected a JSON array of usage events" if str(exc) == "expected a JSON array" else f"invalid JSON: {exc}"
        )
        yield RowError(exc.position, "(json)", message)


CSV_BASE_COLUMNS = ("request_id", "occurred_at", "provider", "model")


def read_csv(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    if reader.fieldnames is None:
        return
    columns = [c.strip() for c in reader.fieldnames]
    reader.fieldnames = columns
    for line_no, row in csv_records(reader):
        if isinstance(row, str):
            yield RowError(line_no, "(row)", row)
            continue
        if None in row:
            yield RowError(line_no, "(row)", f"has {len(columns) + len(row[None])} values for {len(columns)} columns")
            continue
        obj = {
            "request_id": row.get("request_id"),
            "occurred_at": row.get("occurred_at"),
            "provider": row.get("provider"),
            "model": row.get("model"),
            "service_tier": row.get("service_tier"),
            "is_retry": row.get("is_retry"),
            "is_batch": row.get("is_batch"),
            "trace_id": row.get("trace_id"),
            "cost": row.get("cost"),
            "context_window": row.get("context_window"),
            "region_scope": row.get("region_scope"),
            "usage": {name: row.get(name) for name in USAGE_FIELDS},
            "tags": {c[4:]: row[c] for c in columns if c.startswith("tag:") and row[c] not in (None, "")},
            "tool_calls": {c[5:]: row[c] for c in columns if c.startswith("tool:") and row[c] not in (None, "")},
        }
        try:
            yield event_from_object(obj, line_no)
        except RowProblem as problem:
            yield RowError(line_no, problem.field, problem.message)
