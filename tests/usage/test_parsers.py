"""The readers, on fixtures written from the documented shapes of each source."""

import gzip
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from apps.ingest.rows import MAX_LINE_BYTES
from apps.usage.parsers import FileRefused, RowError, UsageEvent, detect_format, reader_for

FIXTURES = Path(__file__).parent / "fixtures"


def _read(format_name: str, data: bytes) -> list:
    reader, _source = reader_for(format_name)
    return list(reader(io.BytesIO(data)))


def _events(items) -> list[UsageEvent]:
    return [i for i in items if isinstance(i, UsageEvent)]


def _errors(items) -> list[tuple[int, str, str]]:
    return [(e.line, e.field, e.message) for e in items if isinstance(e, RowError)]


EVENT = (
    b'{"request_id": "req_8f2a", "occurred_at": "2026-10-03T14:22:05Z", "provider": "Anthropic",'
    b' "model": "claude-sonnet-4-5", "service_tier": "standard",'
    b' "tags": {"team": "search", "feature": "answer-summaries", "workspace": "acme-prod",'
    b' "environment": "production", "customer": "cust_042"},'
    b' "usage": {"input_tokens": 1200, "output_tokens": 350, "cache_read_tokens": 8000,'
    b' "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},'
    b' "tool_calls": {"web_search": 1}, "is_retry": false, "trace_id": "tr_91c", "cost": "0.0123456789"}'
)


def test_canonical_event_is_read_exactly():
    [event] = _read("ndjson", EVENT + b"\n")
    assert event.request_id == "req_8f2a"
    assert event.occurred_at == datetime(2026, 10, 3, 14, 22, 5, tzinfo=UTC)
    assert event.provider == "anthropic"
    assert (event.input_tokens, event.output_tokens, event.cache_read_tokens) == (1200, 350, 8000)
    assert event.tool_calls == {"web_search": 1}
    assert event.gateway_cost == Decimal("0.0123456789")
    assert event.tags["customer"] == "cust_042"
    assert event.trace_id == "tr_91c" and event.is_retry is False and event.line == 1


def test_json_numbers_with_fractions_never_pass_through_float():
    [event] = _read("ndjson", EVENT.replace(b'"cost": "0.0123456789"', b'"cost": 0.1000000000000000055511151231257827'))
    assert event.gateway_cost == Decimal("0.1000000000000000055511151231257827")


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        (b"{not json", "(json)", "invalid JSON"),
        (b'["a", "list"]', "(row)", "must be a JSON object, got list"),
        (b'"just a string"', "(row)", "must be a JSON object, got str"),
        (EVENT.replace(b'"request_id": "req_8f2a", ', b""), "request_id", "is required"),
        (EVENT.replace(b'"input_tokens": 1200', b'"input_tokens": -5'), "usage.input_tokens", "must not be negative"),
        (EVENT.replace(b'"output_tokens": 350', b'"output_tokens": "lots"'), "usage.output_tokens", "whole number"),
        (EVENT.replace(b'"output_tokens": 350', b'"output_tokens": 3.5'), "usage.output_tokens", "whole number"),
        (EVENT.replace(b"2026-10-03T14:22:05Z", b"yesterday"), "occurred_at", "not an ISO 8601 timestamp"),
        (EVENT.replace(b'"service_tier": "standard"', b'"service_tier": "gold"'), "service_tier", "must be one of"),
        (EVENT.replace(b'"is_retry": false', b'"is_retry": "maybe"'), "is_retry", "true or false"),
        (EVENT.replace(b'"cost": "0.0123456789"', b'"cost": "abc"'), "cost", "decimal number"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_field_and_neighbours_kept(line, field, message):
    good = EVENT
    second = EVENT.replace(b"req_8f2a", b"req_second")
    items = _read("ndjson", good + b"\n" + line + b"\n" + second + b"\n")
    assert [e.request_id for e in _events(items)] == ["req_8f2a", "req_second"]
    [(error_line, error_field, error_message)] = _errors(items)
    assert (error_line, error_field) == (2, field)
    assert message in error_message


def test_over_long_lines_are_rejected_without_reading_them_whole():
    long_line = b'{"request_id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}'
    items = _read("ndjson", EVENT + b"\n" + long_line + b"\n" + EVENT.replace(b"req_8f2a", b"req_3") + b"\n")
    assert [e.line for e in _events(items)] == [1, 3]
    assert _errors(items) == [(2, "(line)", f"line is longer than {MAX_LINE_BYTES} bytes")]


def test_blank_lines_are_skipped_and_line_numbers_stay_true():
    items = _read("ndjson", b"\n" + EVENT + b"\n\n")
    assert [e.line for e in _events(items)] == [2]


def test_csv_with_tag_and_tool_columns():
    data = (
        b"request_id,occurred_at,provider,model,service_tier,input_tokens,output_tokens,cache_read_tokens,"
        b"cache_write_5m_tokens,cache_write_1h_tokens,is_retry,trace_id,cost,tag:team,tag:feature,tool:web_search\n"
        b"r1,2026-10-03T10:00:00Z,openai,gpt-4o,batch,1000,200,0,0,0,true,t1,,search,answer-summaries,2\n"
        b"r2,2026-10-03T11:00:00Z,openai,gpt-4o,,-1,0,0,0,0,false,,,search,,\n"
        b"r3,2026-10-03T12:00:00Z,openai,gpt-4o,,10,5,,,,,,0.5,,,\n"
    )
    items = _read("csv", data)
    r1, r3 = _events(items)
    assert r1.tags == {"team": "search", "feature": "answer-summaries"}
    assert r1.tool_calls == {"web_search": 2}
    assert (r1.service_tier, r1.is_batch, r1.is_retry, r1.input_tokens) == ("batch", True, True, 1000)
    assert r3.gateway_cost == Decimal("0.5") and r3.tags == {}
    assert _errors(items) == [(3, "usage.input_tokens", "must not be negative, got -1")]


def test_csv_row_with_too_many_values_is_rejected():
    data = b"request_id,occurred_at,provider,model\nr1,2026-10-03T10:00:00Z,openai,gpt-4o,extra\n"
    assert _errors(_read("csv", data)) == [(2, "(row)", "has 5 values for 4 columns")]


def test_openai_usage_subtracts_cached_tokens_from_input():
    items = _read("openai-usage", (FIXTURES / "openai_usage_page.json").read_bytes())
    first, second = _events(items)
    # input_tokens 1,000,000 INCLUDES 400,000 cached: uncached input is 600,000.
    assert (first.input_tokens, first.cache_read_tokens, first.output_tokens) == (600_000, 400_000, 200_000)
    assert first.request_count == 120 and first.model == "gpt-4o-2024-08-06"
    assert first.mapping_keys == (("openai_project", "proj_search"), ("openai_api_key", "key_abc"))
    assert first.occurred_at == datetime(2025, 10, 3, tzinfo=UTC)
    assert (second.service_tier, second.is_batch, second.input_tokens) == ("batch", True, 2_000_000)
    assert _errors(items) == [(3, "data[1].results[0].input_cached_tokens", "20 is more than input_tokens 10")]


def test_openai_bucket_ids_are_deterministic_and_distinct():
    data = (FIXTURES / "openai_usage_page.json").read_bytes()
    ids_once = [e.request_id for e in _events(_read("openai-usage", data))]
    ids_again = [e.request_id for e in _events(_read("openai-usage", data))]
    assert ids_once == ids_again and len(set(ids_once)) == 2 and all(i.startswith("openai:") for i in ids_once)


def test_anthropic_usage_report():
    first, second = _events(_read("anthropic-usage", (FIXTURES / "anthropic_usage_page.json").read_bytes()))
    assert (
        first.input_tokens,
        first.cache_read_tokens,
        first.cache_write_5m_tokens,
        first.cache_write_1h_tokens,
        first.output_tokens,
    ) == (500_000, 3_000_000, 200_000, 100_000, 150_000)
    assert first.tool_calls == {"web_search": 25}
    assert first.mapping_keys == (("anthropic_workspace", "wrkspc_search"), ("anthropic_api_key", "apikey_01"))
    assert first.request_count == 0  # the report has no request counts
    assert (second.service_tier, second.is_batch, second.tool_calls) == ("batch", True, {})


def test_litellm_spend_logs():
    first, hit, bedrock = _events(_read("litellm", (FIXTURES / "litellm_spend_logs.ndjson").read_bytes()))
    assert first.provider == "openai" and first.model == "gpt-4o"
    assert (first.input_tokens, first.cache_read_tokens, first.output_tokens) == (1500, 1000, 500)
    assert first.tags == {
        "feature": "answer-summaries",
        "environment": "prod",
        "team": "search",
        "customer": "cust_042",
    }
    assert first.gateway_cost == Decimal("0.0125")
    assert first.mapping_keys == (("litellm_team", "team-uuid-1"),)
    # A LiteLLM cache hit never reached the provider.
    assert (hit.input_tokens, hit.output_tokens, hit.tags) == (0, 0, {"feature": "answer-summaries"})
    assert bedrock.provider == "aws-bedrock" and bedrock.model == "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_litellm_json_array_form():
    data = (
        b'[{"request_id": "a", "spend": 0.1, "prompt_tokens": 1, "completion_tokens": 1, "startTime": '
        b'"2025-10-03T10:00:00Z", "model": "gpt-4o", "custom_llm_provider": "openai"}, 5]'
    )
    items = _read("litellm", data)
    assert [e.request_id for e in _events(items)] == ["a"]
    assert _errors(items) == [(2, "(row)", "must be a JSON object, got int")]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (EVENT + b"\n", "ndjson"),
        (b"[" + EVENT + b"]", "json"),
        (b"request_id,occurred_at,provider,model\n", "csv"),
        ((FIXTURES / "openai_usage_page.json").read_bytes(), "openai-usage"),
        ((FIXTURES / "anthropic_usage_page.json").read_bytes(), "anthropic-usage"),
        ((FIXTURES / "litellm_spend_logs.ndjson").read_bytes(), "litellm"),
    ],
)
def test_format_detection(head, expected):
    assert detect_format(head) == expected


@pytest.mark.parametrize("head", [b"", b"   \n", b"hello world\n", b'{"some": "thing"}\n'])
def test_unrecognised_files_are_refused(head):
    with pytest.raises(FileRefused):
        detect_format(head, "x.txt")


def test_gzip_is_just_bytes_to_the_reader():
    # Decompression happens before the reader (payload_open); the reader sees the same events.
    compressed = gzip.compress(EVENT + b"\n")
    with gzip.open(io.BytesIO(compressed)) as stream:
        reader, _ = reader_for("ndjson")
        assert [e.request_id for e in reader(stream)] == ["req_8f2a"]
