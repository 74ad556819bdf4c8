"""Which reader reads which format, and guessing the format from a file's first bytes."""

from collections.abc import Callable, Iterator
from typing import BinaryIO

from apps.ingest.rows import FileRefused, RowError, json_loads

from .base import UsageEvent
from .canonical import read_csv, read_json_array, read_ndjson
from .provider_exports import read_anthropic_usage, read_litellm, read_openai_usage

Reader = Callable[[BinaryIO], Iterator[UsageEvent | RowError]]

# format name -> (reader, idempotency source). Provider exports have their own namespace of derived ids.
FORMATS: dict[str, tuple[Reader, str]] = {
    "ndjson": (read_ndjson, "events"),
    "json": (read_json_array, "events"),
    "csv": (read_csv, "events"),
    "openai-usage": (read_openai_usage, "openai-usage"),
    "anthropic-usage": (read_anthropic_usage, "anthropic-usage"),
    "litellm": (read_litellm, "litellm"),
}


def reader_for(format_name: str) -> tuple[Reader, str]:
    try:
        return FORMATS[format_name]
    except KeyError as exc:
        raise FileRefused(f"unknown format {format_name!r}; use one of: auto, {', '.join(FORMATS)}") from exc


def _classify_object(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("data"), list):
        text = repr(obj["data"][:3])
        if "uncached_input_tokens" in text or "starting_at" in text:
            return "anthropic-usage"
        if "num_model_requests" in text or "input_cached_tokens" in text or obj.get("object") == "page":
            return "openai-usage"
    if "spend" in obj and ("startTime" in obj or "custom_llm_provider" in obj):
        return "litellm"
    if "request_id" in obj and ("usage" in obj or "occurred_at" in obj):
        return "ndjson"
    return None


def detect_format(head: bytes, file_name: str = "") -> str:
    """Guess from the first bytes (already known to be UTF-8). Raises FileRefused when unsure."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
    if not text:
        raise FileRefused("the file is empty")
    if text[0] in "{[":
        first_line = text.split("\n", 1)[0]
        candidates = []
        for snippet in (first_line, text):
            try:
                candidates.append(json_loads(snippet))
            except ValueError:
                continue
        for doc in candidates:
            if isinstance(doc, list):
                kind = _classify_object(doc[0]) if doc else None
                if kind == "ndjson":
                    return "json"
                if kind:
                    return kind
            else:
                kind = _classify_object(doc)
                if kind:
                    return kind
        if text[0] == "{" and '"uncached_input_tokens"' in text:
            return "anthropic-usage"
        if text[0] == "{" and '"num_model_requests"' in text:
            return "openai-usage"
        raise FileRefused(
            "could not recognise the JSON format: choose the file's format instead of automatic detection"
        )
    header = text.split("\n", 1)[0].lower()
    if "request_id" in header and "occurred_at" in header and "," in header:
        return "csv"
    raise FileRefused(
        f"could not recognise the format of {file_name or 'the file'}: expected NDJSON, JSON, CSV with a "
        "request_id,occurred_at,... header, an OpenAI or Anthropic usage export, or LiteLLM spend logs"
    )
