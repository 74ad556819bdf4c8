"""What the readers hand the estimator (issue 15): context windows, batch and tier agreeing, cache writes,
audio and image tokens, the Scale tier; and the figures the estimator then gives (2026-10-14)."""

import io
import json
from decimal import Decimal

import pytest

from apps.usage.parsers import RowError, UsageEvent, reader_for
from tests.pricing.test_semantics import DAY, book_with, nano, row

M = 1_000_000


def _read(format_name: str, data: bytes) -> list:
    reader, _source = reader_for(format_name)
    return list(reader(io.BytesIO(data)))


def _one(format_name: str, data: bytes) -> UsageEvent:
    [item] = _read(format_name, data)
    assert isinstance(item, UsageEvent), item
    return item


def _error(format_name: str, data: bytes) -> tuple[str, str]:
    [item] = _read(format_name, data)
    assert isinstance(item, RowError), item
    return item.field, item.message


def price(book, event: UsageEvent):
    return book.estimate(
        provider=event.provider,
        model=event.model,
        service_tier=event.service_tier,
        occurred_on=event.occurred_at.date(),
        usage=event.priced_usage(),
        tool_calls=event.tool_calls,
        context_window=event.context_window,
        region_scope=event.region_scope,
    )


# --- Anthropic usage report -----------------------------------------------------------------------


def _anthropic_page(**result) -> bytes:
    base = {
        "uncached_input_tokens": 1_200_000,
        "cache_read_input_tokens": 8_000_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 300_000, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 250_000,
        "model": "claude-sonnet-4-5-20250929",
        "service_tier": "standard",
        "context_window": "0-200k",
    }
    bucket = {"starting_at": f"{DAY}T00:00:00Z", "ending_at": "2026-10-15T00:00:00Z", "results": [{**base, **result}]}
    return json.dumps({"data": [bucket], "has_more": False}).encode()


def test_an_anthropic_bucket_passes_its_context_window_to_the_estimator():
    event = _one("anthropic-usage", _anthropic_page())
    assert event.context_window == "0-200k"
    assert price(book_with(), event).total_nano == nano("10.875")  # 19.875 at the long rates before
    batch = _one("anthropic-usage", _anthropic_page(service_tier="batch"))
    assert (batch.service_tier, batch.is_batch, price(book_with(), batch).total_nano) == ("batch", True, nano("5.4375"))
    long = _one("anthropic-usage", _anthropic_page(context_window="200k-1M"))
    assert long.context_window == "200k-1M" and long.request_id != event.request_id
    assert price(book_with(), long).total_nano == nano("19.875")
    without = _one("anthropic-usage", _anthropic_page(context_window=None))
    assert without.context_window is None


def test_an_unknown_context_window_is_refused():
    assert _error("anthropic-usage", _anthropic_page(context_window="1M+")) == (
        "data[0].results[0].context_window",
        "must be one of 0-200k, 200k-1M, got '1M+'",
    )


# --- canonical events ---------------------------------------------------------------------------------


def _canonical(**fields) -> bytes:
    obj = {
        "request_id": "r1",
        "occurred_at": f"{DAY}T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "usage": {"input_tokens": M, "output_tokens": 200_000},
        **fields,
    }
    return json.dumps({k: v for k, v in obj.items() if v is not None}).encode() + b"\n"


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_is_batch_without_a_tier_is_the_batch_tier(fmt):
    line = _canonical(is_batch=True)
    data = line if fmt == "ndjson" else b"[" + line.strip() + b"]"
    event = _one(fmt, data)
    assert (event.service_tier, event.is_batch) == ("batch", True)
    assert price(book_with(), event).total_nano == nano("2.25")  # 4.50 at the standard tier before


def test_tier_batch_means_is_batch():
    event = _one("ndjson", _canonical(service_tier="batch"))
    assert (event.service_tier, event.is_batch) == ("batch", True)


@pytest.mark.parametrize("tier", ["priority", "standard", "default"])
def test_is_batch_with_another_tier_is_refused(tier):
    line = _canonical(is_batch=True, service_tier=tier)
    shown = "standard" if tier == "default" else tier
    assert _error("ndjson", line) == ("is_batch", f"is true but service_tier is {shown}")


def test_canonical_modalities_context_window_and_region_scope():
    line = _canonical(
        usage={"input_tokens": 10, "input_audio_tokens": 20, "output_audio_tokens": 30, "input_image_tokens": 40,
               "output_image_tokens": 50},
        context_window="0-200k",
        region_scope="regional",
    )  # fmt: skip
    for fmt in ("ndjson", "json"):
        event = _one(fmt, line if fmt == "ndjson" else b"[" + line.strip() + b"]")
        assert (event.input_tokens, event.input_audio_tokens, event.output_audio_tokens) == (10, 20, 30)
        assert (event.input_image_tokens, event.output_image_tokens) == (40, 50)
        assert (event.context_window, event.region_scope) == ("0-200k", "regional")
    assert _error("ndjson", _canonical(region_scope="moon")) == (
        "region_scope",
        "must be global or regional, got 'moon'",
    )


def test_canonical_csv_reads_the_new_columns():
    data = (
        b"request_id,occurred_at,provider,model,service_tier,is_batch,input_tokens,input_audio_tokens,context_window\n"
        b"r1,2026-10-14T10:00:00Z,google,gemini-2.5-flash,,true,5,1000000,0-200k\n"
    )
    event = _one("csv", data)
    assert (event.service_tier, event.input_tokens, event.input_audio_tokens, event.context_window) == (
        "batch",
        5,
        M,
        "0-200k",
    )


# --- OpenAI usage ---------------------------------------------------------------------------------------


def _openai_page(**result) -> bytes:
    base = {"object": "organization.usage.completions.result", "model": "gpt-4o-2024-08-06", "num_model_requests": 3}
    bucket = {"start_time": 1_760_400_000, "end_time": 1_760_486_400, "results": [{**base, **result}]}
    return json.dumps({"object": "page", "data": [bucket]}).encode()


def test_openai_scale_tier_is_stored_and_unpriced_until_overridden():
    event = _one("openai-usage", _openai_page(input_tokens=M, output_tokens=200_000, service_tier="scale"))
    assert (event.service_tier, event.is_batch) == ("scale", False)
    assert price(book_with(), event).unpriced == ("input", "output")


def test_openai_uncached_input_leaves_out_cache_writes_audio_and_images():
    event = _one(
        "openai-usage",
        _openai_page(
            input_tokens=M,
            input_cached_tokens=200_000,
            input_cache_write_tokens=100_000,
            input_cache_write_12h_tokens=5_000,
            input_audio_tokens=50_000,
            input_image_tokens=10_000,
            output_tokens=1_000,
            output_audio_tokens=7,
            output_image_tokens=9,
        ),
    )
    assert (event.input_tokens, event.cache_read_tokens) == (635_000, 200_000)
    assert (event.cache_write_5m_tokens, event.cache_write_1h_tokens) == (100_000, 5_000)
    assert (event.input_audio_tokens, event.input_image_tokens) == (50_000, 10_000)
    assert (event.output_tokens, event.output_audio_tokens, event.output_image_tokens) == (1_000, 7, 9)
    # gpt-4o in the book has no cache-write, audio or image rows: those stay unpriced, never priced as text.
    result = price(book_with(), event)
    assert result.cost_nano["input"] == nano("1.5875")  # 635,000 × 2.50 per M, not 800,000
    assert set(result.unpriced) == {
        "cache_write_5m",
        "cache_write_1h",
        "input_audio",
        "output_audio",
        "input_image",
        "output_image",
    }


def test_openai_input_uncached_tokens_wins_when_present():
    event = _one(
        "openai-usage", _openai_page(input_tokens=M, input_cached_tokens=200_000, input_uncached_tokens=700_000)
    )
    assert (event.input_tokens, event.cache_read_tokens) == (700_000, 200_000)


def test_openai_parts_larger_than_the_input_are_refused():
    field, message = _error(
        "openai-usage", _openai_page(input_tokens=100, input_cached_tokens=50, input_audio_tokens=60)
    )
    assert field == "data[0].results[0].input_tokens"
    assert message == "100 is less than its cached, cache-write, audio and image tokens (110)"


# --- LiteLLM spend logs ------------------------------------------------------------------------------


def _litellm(**fields) -> bytes:
    base = {
        "request_id": "chatcmpl-9",
        "call_type": "acompletion",
        "spend": 0.3,
        "startTime": f"{DAY}T10:00:00Z",
        "custom_llm_provider": "anthropic",
        "model": "claude-opus-4-5-20251101",
    }
    return json.dumps({**base, **fields}).encode() + b"\n"


# LiteLLM v1.80.11 (BerriAI/litellm#11364): prompt_tokens 98,805 = cached 66,360 + creation 32,435 + 10 uncached.
OPUS = {
    "prompt_tokens": 98_805,
    "completion_tokens": 5_120,
    "metadata": {
        "usage_object": {
            "prompt_tokens": 98_805,
            "completion_tokens": 5_120,
            "cache_creation_input_tokens": 32_435,
            "cache_read_input_tokens": 66_360,
            "prompt_tokens_details": {"cached_tokens": 66_360},
        },
        "batch_models": None,
    },
}


def test_litellm_cache_creation_tokens_are_cache_writes():
    event = _one("litellm", _litellm(**OPUS))
    assert (event.input_tokens, event.cache_read_tokens, event.cache_write_5m_tokens, event.output_tokens) == (
        10,
        66_360,
        32_435,
        5_120,
    )
    assert (event.service_tier, event.is_batch) == ("standard", False)
    assert price(book_with(), event).total_nano == nano("0.36394875")  # 0.323405 before


def test_litellm_anthropic_messages_prompt_excludes_the_cache():
    usage = {"cache_creation_input_tokens": 32_435, "cache_read_input_tokens": 66_360}
    event = _one(
        "litellm",
        _litellm(call_type="anthropic_messages", prompt_tokens=10, completion_tokens=5_120,
                 metadata={"usage_object": usage}),
    )  # fmt: skip
    assert (event.input_tokens, event.cache_read_tokens, event.cache_write_5m_tokens) == (10, 66_360, 32_435)


def test_litellm_a_prompt_smaller_than_its_parts_is_refused():
    field, message = _error("litellm", _litellm(prompt_tokens=10, metadata=OPUS["metadata"]))
    assert field == "prompt_tokens"
    assert (
        message == "10 is less than its cached, cache-write, audio and image tokens (98795) for call type acompletion"
    )


def test_litellm_batch_rows_are_the_batch_tier():
    metadata = {**OPUS["metadata"], "batch_models": ["claude-opus-4-5-20251101"]}
    event = _one("litellm", _litellm(**{**OPUS, "metadata": metadata}))
    assert (event.service_tier, event.is_batch) == ("batch", True)
    assert _one("litellm", _litellm(call_type="aretrieve_batch", prompt_tokens=1)).service_tier == "batch"


def test_litellm_audio_prompt_is_priced_as_audio():
    data = _litellm(
        custom_llm_provider="gemini",
        model="gemini/gemini-2.5-flash",
        prompt_tokens=M,
        completion_tokens=0,
        metadata={"usage_object": {"prompt_tokens_details": {"audio_tokens": M, "text_tokens": 0}}},
    )
    event = _one("litellm", data)
    assert (event.provider, event.model, event.input_tokens, event.input_audio_tokens) == (
        "google",
        "gemini-2.5-flash",
        0,
        M,
    )
    audio_row = row("google", "gemini-2.5-flash", "standard", "input_audio", "1.00", start="2025-06-17")
    assert price(book_with(audio_row), event).total_nano == nano("1.00")  # 0.30 as text before
    assert price(book_with(), event).unpriced == ("input_audio",)


def test_litellm_output_audio_is_split_from_the_text_output():
    usage = {"completion_tokens_details": {"audio_tokens": 300}, "prompt_tokens_details": {"image_tokens": 40}}
    event = _one("litellm", _litellm(prompt_tokens=100, completion_tokens=500, metadata={"usage_object": usage}))
    assert (event.input_tokens, event.input_image_tokens) == (60, 40)
    assert (event.output_tokens, event.output_audio_tokens) == (200, 300)


def test_litellm_cache_hits_still_cost_nothing():
    event = _one("litellm", _litellm(cache_hit=True, **OPUS))
    assert (event.input_tokens, event.cache_write_5m_tokens, event.output_tokens) == (0, 0, 0)


def test_bedrock_profile_through_litellm_keeps_its_region():
    rows = [
        row("aws-bedrock", "claude-sonnet-4-5", "standard", u, p, start="2025-09-29", region_scope="regional")
        for u, p in (("input", "3.30"), ("output", "16.50"))
    ]
    data = _litellm(
        custom_llm_provider="bedrock",
        model="bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        prompt_tokens=100_000,
        completion_tokens=10_000,
    )
    event = _one("litellm", data)
    assert price(book_with(*rows), event).total_nano == nano("0.495")


def test_gateway_cost_is_kept_exactly():
    event = _one("litellm", _litellm(**OPUS))
    assert event.gateway_cost == Decimal("0.3")
