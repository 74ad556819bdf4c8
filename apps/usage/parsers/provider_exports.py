"""Provider usage exports (bucketed, no request ids) and gateway logs, normalised into UsageEvents.

Bucketed rows get a deterministic request id derived from the bucket and its group keys, so the same
export ingested twice stores each bucket once.
"""

import hashlib
import io
from collections.abc import Iterator
from typing import BinaryIO

from apps.core.limits import JSONStreamError, first_significant_byte, iter_json_array, iter_json_pages
from apps.ingest.rows import (
    MAX_LINE_BYTES,
    RowError,
    RowProblem,
    as_amount,
    as_bool,
    as_calls,
    as_int,
    as_mapping,
    as_text,
    as_timestamp,
    iter_lines,
    json_loads,
)

from .base import UsageEvent, as_context_window, as_tier


def _derived_id(prefix: str, *parts) -> str:
    digest = hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:32]
    return f"{prefix}:{digest}"


def _pages(stream: BinaryIO) -> Iterator[tuple[int, object] | RowError]:
    """A file of pages: one JSON page, a JSON array of pages, or one page per line (NDJSON), read one page
    at a time (apps/core/limits.py)."""
    for _kind, number, value in iter_json_pages(stream, max_line_bytes=MAX_LINE_BYTES):
        if isinstance(value, JSONStreamError):
            yield RowError(number, "(line)" if value.too_long else "(json)", value.row_message())
        else:
            yield number, value


def _results(stream: BinaryIO):
    """Yield (row number, field prefix, bucket, result) for every result of every bucket of every page."""
    row = 0
    for item in _pages(stream):
        if isinstance(item, RowError):
            yield item
            continue
        page_no, page = item
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            row += 1
            yield RowError(row, f"page[{page_no}]", "expected a usage page with a 'data' list of buckets")
            continue
        for b_index, bucket in enumerate(page["data"]):
            if not isinstance(bucket, dict):
                row += 1
                yield RowError(row, f"page[{page_no}].data[{b_index}]", "must be an object")
                continue
            results = bucket.get("results", bucket.get("result", []))
            if isinstance(results, dict):
                results = [results]
            for r_index, result in enumerate(results or []):
                row += 1
                yield row, f"data[{b_index}].results[{r_index}]", bucket, result


def read_openai_usage(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    """OpenAI /v1/organization/usage/completions pages. Its input_tokens INCLUDE input_cached_tokens, the
    cache writes and the audio and image input tokens. ``service_tier`` may be ``scale`` (Scale Tier):
    stored as such, priced only by an organisation's override."""
    for item in _results(stream):
        if isinstance(item, RowError):
            yield item
            continue
        row, prefix, bucket, result = item
        try:
            if not isinstance(result, dict):
                raise RowProblem(prefix, "must be an object")
            start = as_timestamp(bucket.get("start_time"), "start_time")
            input_total = as_int(result.get("input_tokens"), f"{prefix}.input_tokens")
            cached = as_int(result.get("input_cached_tokens"), f"{prefix}.input_cached_tokens")
            if cached > input_total:
                raise RowProblem(f"{prefix}.input_cached_tokens", f"{cached} is more than input_tokens {input_total}")
            # input_tokens includes cached and cache-write tokens, and audio and image tokens: each is
            # priced apart, so the uncached text input is what is left (or input_uncached_tokens).
            writes = as_int(result.get("input_cache_write_tokens"), f"{prefix}.input_cache_write_tokens")
            writes_12h = as_int(result.get("input_cache_write_12h_tokens"), f"{prefix}.input_cache_write_12h_tokens")
            audio_in = as_int(result.get("input_audio_tokens"), f"{prefix}.input_audio_tokens")
            image_in = as_int(result.get("input_image_tokens"), f"{prefix}.input_image_tokens")
            if result.get("input_uncached_tokens") is not None:
                uncached = as_int(result.get("input_uncached_tokens"), f"{prefix}.input_uncached_tokens")
            else:
                uncached = input_total - cached - writes - writes_12h - audio_in - image_in
                if uncached < 0:
                    raise RowProblem(
                        f"{prefix}.input_tokens",
                        f"{input_total} is less than its cached, cache-write, audio and image tokens "
                        f"({cached + writes + writes_12h + audio_in + image_in})",
                    )
            model = as_text(result.get("model"), f"{prefix}.model", required=True)
            project_id = as_text(result.get("project_id"), f"{prefix}.project_id")
            api_key_id = as_text(result.get("api_key_id"), f"{prefix}.api_key_id")
            user_id = as_text(result.get("user_id"), f"{prefix}.user_id")
            batch = as_bool(result.get("batch"), f"{prefix}.batch")
            tier = "batch" if batch else as_tier(result.get("service_tier"), f"{prefix}.service_tier")
            keys = tuple(k for k in (("openai_project", project_id), ("openai_api_key", api_key_id)) if k[1])
            yield UsageEvent(
                line=row,
                request_id=_derived_id(
                    "openai", bucket.get("start_time"), project_id, api_key_id, user_id, model, batch, tier
                ),
                occurred_at=start,
                provider="openai",
                model=model,
                service_tier=tier,
                input_tokens=uncached,
                cache_read_tokens=cached,
                # OpenAI's 30-minute cache writes are the short-lived ones; the 12-hour ones the long-lived.
                cache_write_5m_tokens=writes,
                cache_write_1h_tokens=writes_12h,
                output_tokens=as_int(result.get("output_tokens"), f"{prefix}.output_tokens"),
                input_audio_tokens=audio_in,
                output_audio_tokens=as_int(result.get("output_audio_tokens"), f"{prefix}.output_audio_tokens"),
                input_image_tokens=image_in,
                output_image_tokens=as_int(result.get("output_image_tokens"), f"{prefix}.output_image_tokens"),
                is_batch=batch,
                request_count=as_calls(result.get("num_model_requests"), f"{prefix}.num_model_requests"),
                mapping_keys=keys,
            )
        except RowProblem as problem:
            yield RowError(row, problem.field, problem.message)


def read_anthropic_usage(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    """Anthropic usage report pages (/v1/organizations/usage_report/messages)."""
    for item in _results(stream):
        if isinstance(item, RowError):
            yield item
            continue
        row, prefix, bucket, result = item
        try:
            if not isinstance(result, dict):
                raise RowProblem(prefix, "must be an object")
            start = as_timestamp(bucket.get("starting_at"), "starting_at")
            cache_creation = as_mapping(result.get("cache_creation"), f"{prefix}.cache_creation")
            server_tools = as_mapping(result.get("server_tool_use"), f"{prefix}.server_tool_use")
            model = as_text(result.get("model"), f"{prefix}.model", required=True)
            workspace_id = as_text(result.get("workspace_id"), f"{prefix}.workspace_id")
            api_key_id = as_text(result.get("api_key_id"), f"{prefix}.api_key_id")
            tier = as_tier(result.get("service_tier"), f"{prefix}.service_tier")
            # The bucket's pricing tier of prompt length: its token sum says nothing about one prompt.
            context_window = as_context_window(result.get("context_window"), f"{prefix}.context_window")
            searches = as_calls(
                server_tools.get("web_search_requests"), f"{prefix}.server_tool_use.web_search_requests"
            )
            keys = tuple(k for k in (("anthropic_workspace", workspace_id), ("anthropic_api_key", api_key_id)) if k[1])
            yield UsageEvent(
                line=row,
                request_id=_derived_id(
                    "anthropic",
                    bucket.get("starting_at"),
                    workspace_id,
                    api_key_id,
                    model,
                    tier,
                    context_window,
                ),
                occurred_at=start,
                provider="anthropic",
                model=model,
                service_tier=tier,
                input_tokens=as_int(result.get("uncached_input_tokens"), f"{prefix}.uncached_input_tokens"),
                cache_read_tokens=as_int(result.get("cache_read_input_tokens"), f"{prefix}.cache_read_input_tokens"),
                cache_write_5m_tokens=as_int(
                    cache_creation.get("ephemeral_5m_input_tokens"),
                    f"{prefix}.cache_creation.ephemeral_5m_input_tokens",
                ),
                cache_write_1h_tokens=as_int(
                    cache_creation.get("ephemeral_1h_input_tokens"),
                    f"{prefix}.cache_creation.ephemeral_1h_input_tokens",
                ),
                output_tokens=as_int(result.get("output_tokens"), f"{prefix}.output_tokens"),
                tool_calls={"web_search": searches} if searches else {},
                is_batch=tier == "batch",
                # The report counts tokens, not requests: a bucket stands for an unknown number of them.
                request_count=0,
                mapping_keys=keys,
                context_window=context_window,
            )
        except RowProblem as problem:
            yield RowError(row, problem.field, problem.message)


LITELLM_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "azure": "azure-openai",
    "azure_ai": "azure-openai",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gemini": "google",
}


def _litellm_tags(obj: dict) -> dict:
    tags = {}
    request_tags = obj.get("request_tags") or []
    if isinstance(request_tags, str):
        try:
            request_tags = json_loads(request_tags)
        except ValueError:
            request_tags = [t for t in request_tags.split(",") if t]
    if isinstance(request_tags, list):
        for tag in request_tags:
            if isinstance(tag, str) and ":" in tag:
                key, _, value = tag.partition(":")
                tags[key.strip()] = value.strip()
    metadata = obj.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json_loads(metadata)
        except ValueError:
            metadata = {}
    if isinstance(metadata, dict):
        team_alias = metadata.get("user_api_key_team_alias")
        if team_alias and "team" not in tags:
            tags["team"] = team_alias
    if obj.get("end_user") and "customer" not in tags:
        tags["customer"] = obj["end_user"]
    return tags


def _litellm_metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json_loads(metadata)
        except ValueError:
            metadata = None
    return metadata if isinstance(metadata, dict) else {}


def _details(usage: dict, key: str) -> dict:
    details = usage.get(key)
    return details if isinstance(details, dict) else {}


# LiteLLM call types whose prompt_tokens exclude the cache reads and writes (Anthropic's own convention,
# kept by the /v1/messages pass-through); every other call type counts them in (OpenAI's).
_EXCLUSIVE_PROMPT_CALL_TYPES = {"anthropic_messages", "aanthropic_messages"}


def _litellm_event(obj, line: int) -> UsageEvent:
    if not isinstance(obj, dict):
        raise RowProblem("(row)", f"must be a JSON object, got {type(obj).__name__}")
    raw_provider = as_text(obj.get("custom_llm_provider"), "custom_llm_provider", required=True).lower()
    model = as_text(obj.get("model"), "model", required=True)
    if "/" in model:
        model = model.split("/", 1)[1]  # "openai/gpt-4o" -> "gpt-4o"
    call_type = as_text(obj.get("call_type"), "call_type").lower()
    metadata = _litellm_metadata(obj)
    usage = metadata.get("usage_object")
    usage = usage if isinstance(usage, dict) else {}
    prompt_details = _details(usage, "prompt_tokens_details")
    completion_details = _details(usage, "completion_tokens_details")
    field = "metadata.usage_object"
    prompt = as_int(obj.get("prompt_tokens"), "prompt_tokens")
    completion = as_int(obj.get("completion_tokens"), "completion_tokens")
    if "cached_tokens" in prompt_details and prompt_details["cached_tokens"] is not None:
        cached = as_int(prompt_details["cached_tokens"], f"{field}.prompt_tokens_details.cached_tokens")
    else:
        cached = as_int(usage.get("cache_read_input_tokens"), f"{field}.cache_read_input_tokens")
    creation = as_int(usage.get("cache_creation_input_tokens"), f"{field}.cache_creation_input_tokens")
    audio_in = as_int(prompt_details.get("audio_tokens"), f"{field}.prompt_tokens_details.audio_tokens")
    image_in = as_int(prompt_details.get("image_tokens"), f"{field}.prompt_tokens_details.image_tokens")
    audio_out = as_int(completion_details.get("audio_tokens"), f"{field}.completion_tokens_details.audio_tokens")
    image_out = as_int(completion_details.get("image_tokens"), f"{field}.completion_tokens_details.image_tokens")
    if call_type in _EXCLUSIVE_PROMPT_CALL_TYPES:
        uncached = prompt - audio_in - image_in
    else:
        # prompt_tokens includes the cache reads and writes and the audio and image tokens, each priced apart.
        uncached = prompt - cached - creation - audio_in - image_in
    if uncached < 0:
        raise RowProblem(
            "prompt_tokens",
            f"{prompt} is less than its cached, cache-write, audio and image tokens "
            f"({prompt - uncached}) for call type {call_type or 'unknown'}",
        )
    text_out = completion - audio_out - image_out
    if text_out < 0:
        raise RowProblem("completion_tokens", f"{completion} is less than its audio and image tokens")
    # A batch: LiteLLM names the batch's models in metadata.batch_models (null otherwise); its batch call
    # types say so too.
    batch = metadata.get("batch_models") not in (None, "", [], {}) or "batch" in call_type
    cache_hit = as_bool(obj.get("cache_hit"), "cache_hit")
    team_id = as_text(obj.get("team_id"), "team_id")
    # A LiteLLM cache hit never reached the provider: nothing to pay for, the request still counts.
    paid = not cache_hit
    return UsageEvent(
        line=line,
        request_id=as_text(obj.get("request_id"), "request_id", required=True),
        occurred_at=as_timestamp(obj.get("startTime"), "startTime"),
        provider=LITELLM_PROVIDERS.get(raw_provider, raw_provider),
        model=model,
        service_tier="batch" if batch else "standard",
        tags=_litellm_tags(obj),
        input_tokens=uncached if paid else 0,
        cache_read_tokens=cached if paid else 0,
        # LiteLLM gives no 5-minute / 1-hour split (BerriAI/litellm#15056): the default 5-minute writes.
        cache_write_5m_tokens=creation if paid else 0,
        output_tokens=text_out if paid else 0,
        input_audio_tokens=audio_in if paid else 0,
        output_audio_tokens=audio_out if paid else 0,
        input_image_tokens=image_in if paid else 0,
        output_image_tokens=image_out if paid else 0,
        is_batch=batch,
        gateway_cost=as_amount(obj.get("spend"), "spend"),
        mapping_keys=(("litellm_team", team_id),) if team_id else (),
    )


def read_litellm(stream: BinaryIO) -> Iterator[UsageEvent | RowError]:
    """LiteLLM spend logs (LiteLLM_SpendLogs rows) as NDJSON (streamed) or a JSON array."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    # A JSON array is read one row at a time, never whole.
    numbered = _array_rows(buffered) if first_significant_byte(buffered) == b"[" else _ndjson_objects(buffered)
    for line, obj in numbered:
        if isinstance(obj, RowError):
            yield obj
            continue
        try:
            yield _litellm_event(obj, line)
        except RowProblem as problem:
            yield RowError(line, problem.field, problem.message)


def _array_rows(stream: BinaryIO):
    try:
        yield from iter_json_array(stream)
    except JSONStreamError as exc:
        yield exc.position, RowError(exc.position, "(json)", f"invalid JSON: {exc}")


def _ndjson_objects(stream: BinaryIO):
    for line_no, raw in iter_lines(stream):
        if raw is None:
            yield line_no, RowError(line_no, "(line)", f"line is longer than {MAX_LINE_BYTES} bytes")
            continue
        if not raw.strip():
            continue
        try:
            yield line_no, json_loads(raw)
        except ValueError as exc:
            yield line_no, RowError(line_no, "(json)", f"invalid JSON: {exc}")
