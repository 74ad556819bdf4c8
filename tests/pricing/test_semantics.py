"""Pricing semantics of issue 15, with the before/after figures of the plan (all on 2026-10-14).

The book is built here, not read from the shipped file, so the figures hold whatever the shipped book
holds: the list prices below are those of the file at the time (docs.claude.com, openai.com,
ai.google.dev and aws.amazon.com pricing pages, read 2025-11-15); a case that needs a row the file
lacked adds it, with its source beside it."""

import datetime
from decimal import Decimal

import pytest

from apps.pricing.estimator import OverrideRule, PriceBook, PriceRule

DAY = datetime.date(2026, 10, 14)
M = 1_000_000
USD = 10**9


def nano(amount: str) -> int:
    return int(Decimal(amount) * USD)


def _block(provider, model, tier, start, rates, *, unit="1m_tokens", above=None, **extra) -> list[PriceRule]:
    return [
        PriceRule(
            provider=provider,
            model=model,
            service_tier=tier,
            usage_type=usage_type,
            unit=unit,
            price=Decimal(price),
            effective_from=datetime.date.fromisoformat(start),
            min_context_tokens=above,
            **extra,
        )
        for usage_type, price in rates.items()
    ]


CLAUDE_45 = {
    "input": "3.00",
    "cache_write_5m": "3.75",
    "cache_write_1h": "6.00",
    "cache_read": "0.30",
    "output": "15.00",
}
CLAUDE_45_LONG = {
    "input": "6.00",
    "cache_write_5m": "7.50",
    "cache_write_1h": "12.00",
    "cache_read": "0.60",
    "output": "22.50",
}
CLAUDE_45_BATCH = {
    "input": "1.50",
    "cache_write_5m": "1.875",
    "cache_write_1h": "3.00",
    "cache_read": "0.15",
    "output": "7.50",
}
CLAUDE_45_BATCH_LONG = {
    "input": "3.00",
    "cache_write_5m": "3.75",
    "cache_write_1h": "6.00",
    "cache_read": "0.30",
    "output": "11.25",
}
BASE_ROWS = [
    *_block("anthropic", "claude-sonnet-4-5", "standard", "2025-09-29", CLAUDE_45),
    *_block("anthropic", "claude-sonnet-4-5", "standard", "2025-09-29", CLAUDE_45_LONG, above=200_000),
    *_block("anthropic", "claude-sonnet-4-5", "batch", "2025-09-29", CLAUDE_45_BATCH),
    *_block("anthropic", "claude-sonnet-4-5", "batch", "2025-09-29", CLAUDE_45_BATCH_LONG, above=200_000),
    *_block(
        "anthropic",
        "claude-opus-4-5",
        "standard",
        "2025-11-24",
        {"input": "5.00", "cache_write_5m": "6.25", "cache_write_1h": "10.00", "cache_read": "0.50", "output": "25.00"},
    ),
    *_block("anthropic", "claude-sonnet-4", "standard", "2025-05-22", CLAUDE_45),
    *_block("anthropic", "claude-sonnet-4", "standard", "2025-08-12", CLAUDE_45_LONG, above=200_000),
    *_block("anthropic", "claude-sonnet-4", "batch", "2025-05-22", CLAUDE_45_BATCH),
    # The file's tools were rows of the standard tier.
    *_block("anthropic", "claude-sonnet-4-5", "standard", "2025-05-07", {"web_search": "10.00"}, unit="1k_calls"),
    *_block("openai", "gpt-4o", "standard", "2024-10-01", {"input": "2.50", "cache_read": "1.25", "output": "10.00"}),
    *_block("openai", "gpt-4o", "batch", "2024-10-01", {"input": "1.25", "output": "5.00"}),
    *_block("google", "gemini-2.5-flash", "standard", "2025-06-17", {"input": "0.30", "output": "2.50"}),
    *_block("google", "gemini-2.5-pro", "standard", "2025-06-17", {"input": "1.25", "output": "10.00"}),
    *_block("google", "gemini-2.5-pro", "standard", "2025-06-17", {"input": "2.50", "output": "15.00"}, above=200_000),
    *_block(
        "aws-bedrock",
        "claude-sonnet-4-5",
        "standard",
        "2025-09-29",
        {"input": "3.00", "cache_write_5m": "3.75", "cache_read": "0.30", "output": "15.00"},
    ),
]


def book_with(*extra: PriceRule, overrides=(), org_models=None) -> PriceBook:
    return PriceBook([*BASE_ROWS, *extra], {}, list(overrides), org_models=org_models)


def row(provider, model, tier, usage_type, price, *, unit="1m_tokens", start="2025-01-01", **extra) -> PriceRule:
    return PriceRule(
        provider=provider,
        model=model,
        service_tier=tier,
        usage_type=usage_type,
        unit=unit,
        price=Decimal(price),
        effective_from=datetime.date.fromisoformat(start),
        **extra,
    )


def estimate(book, provider, model, tier="standard", tools=None, day=DAY, **kwargs):
    usage = {k: v for k, v in kwargs.items() if k.endswith("_tokens")}
    rest = {k: v for k, v in kwargs.items() if not k.endswith("_tokens")}
    return book.estimate(
        provider=provider,
        model=model,
        service_tier=tier,
        occurred_on=day,
        usage=usage,
        tool_calls=tools or {},
        **rest,
    )


# Anthropic usage-report bucket of one day: Sonnet 4.5, 1.2M uncached, 8M cache reads, 300K 5m writes, 250K out.
BUCKET = {
    "input_tokens": 1_200_000,
    "cache_read_tokens": 8_000_000,
    "cache_write_5m_tokens": 300_000,
    "output_tokens": 250_000,
}


def test_a_0_200k_bucket_is_priced_at_base_rates_whatever_its_token_sum():
    book = book_with()
    before = estimate(book, "anthropic", "claude-sonnet-4-5", **BUCKET)  # no context window: the sum decides
    assert (before.total_nano, before.long_context) == (nano("19.875"), True)
    after = estimate(book, "anthropic", "claude-sonnet-4-5", context_window="0-200k", **BUCKET)
    assert (after.total_nano, after.long_context) == (nano("10.875"), False)
    assert after.cost_nano["input"] == nano("3.60") and after.cost_nano["cache_write"] == nano("1.125")
    batch_before = estimate(book, "anthropic", "claude-sonnet-4-5", tier="batch", **BUCKET)
    batch = estimate(book, "anthropic", "claude-sonnet-4-5", tier="batch", context_window="0-200k", **BUCKET)
    assert (batch_before.total_nano, batch.total_nano) == (nano("9.9375"), nano("5.4375"))


def test_a_200k_1m_bucket_takes_the_long_context_rates_or_is_unpriced():
    book = book_with()
    small = {"input_tokens": 1_000, "output_tokens": 100}  # a small sum, but the requests were above 200K
    long = estimate(book, "anthropic", "claude-sonnet-4-5", context_window="200k-1M", **small)
    assert (long.total_nano, long.long_context) == (nano("0.00825"), True)  # 1,000 × 6 + 100 × 22.50 per M
    # Opus 4.5 has no long-context rates: such a bucket is unpriced, never charged at the base rates.
    none = estimate(book, "anthropic", "claude-opus-4-5", context_window="200k-1M", **small)
    assert (none.total_nano, none.unpriced, none.long_context) == (0, ("input", "output"), False)
    with pytest.raises(ValueError, match="context_window"):
        estimate(book, "anthropic", "claude-sonnet-4-5", context_window="1M+", **small)


def test_a_batch_request_is_priced_at_the_batch_rate():
    book = book_with()
    assert estimate(book, "openai", "gpt-4o", tier="batch", input_tokens=M, output_tokens=200_000).total_nano == nano(
        "2.25"
    )


def test_litellm_opus_4_5_cache_writes_are_priced_as_writes():
    book = book_with()
    before = estimate(book, "anthropic", "claude-opus-4-5", input_tokens=32_445, cache_read_tokens=66_360,
                      output_tokens=5_120)  # fmt: skip
    assert before.total_nano == nano("0.323405")
    after = estimate(
        book,
        "anthropic",
        "claude-opus-4-5",
        input_tokens=10,
        cache_read_tokens=66_360,
        cache_write_5m_tokens=32_435,
        output_tokens=5_120,
    )
    assert after.total_nano == nano("0.36394875")
    assert after.cost_nano["cache_write"] == nano("0.20271875")


def test_tool_prices_are_tier_agnostic_unless_the_book_says_otherwise():
    book = book_with()
    batch = estimate(
        book, "anthropic", "claude-sonnet-4-5", tier="batch", tools={"web_search": 3}, input_tokens=10_000,
        output_tokens=1_000,
    )  # fmt: skip
    assert (batch.total_nano, batch.unpriced) == (nano("0.0525"), ())
    assert batch.cost_nano["tool_calls"] == nano("0.03")  # Anthropic: web search has no batch rate
    # A tier-specific tool price wins over the tier-less one.
    special = book_with(row("anthropic", "claude-sonnet-4-5", "batch", "web_search", "5.00", unit="1k_calls"))
    assert estimate(special, "anthropic", "claude-sonnet-4-5", tier="batch", tools={"web_search": 3}).total_nano == (
        nano("0.015")
    )
    # Token rows never fall back to another tier: a flex request of a model without flex rows is unpriced.
    flex = estimate(book, "anthropic", "claude-sonnet-4-5", tier="flex", tools={"web_search": 1}, input_tokens=1)
    assert flex.unpriced == ("input",) and flex.cost_nano["tool_calls"] == nano("0.01")


def test_openai_and_gemini_search_calls_from_tier_less_rows():
    # OpenAI web search $10 / 1K calls; Gemini 2.5 grounding $35 / 1K (FX_PLAN §1.2, from genai-prices 0.2.5).
    book = book_with(
        row("openai", "gpt-4o", "any", "web_search", "10.00", unit="1k_calls"),
        row("google", "gemini-2.5-flash", "any", "web_search", "35.00", unit="1k_calls"),
    )
    for tier in ("standard", "batch"):
        assert estimate(book, "openai", "gpt-4o", tier=tier, tools={"web_search": 2}).total_nano == nano("0.02")
        assert estimate(book, "google", "gemini-2.5-flash", tier=tier, tools={"web_search": 2}).total_nano == nano(
            "0.07"
        )
    assert estimate(book_with(), "openai", "gpt-4o", tools={"web_search": 2}).unpriced == ("web_search",)


def test_audio_tokens_are_priced_only_by_an_audio_row():
    # Gemini 2.5 Flash: input $0.30 (text/image/video), $1.00 (audio) per 1M (ai.google.dev pricing page).
    without = estimate(book_with(), "google", "gemini-2.5-flash", input_audio_tokens=M)
    assert (without.total_nano, without.unpriced) == (0, ("input_audio",))  # never priced as text, never dropped
    book = book_with(row("google", "gemini-2.5-flash", "standard", "input_audio", "1.00", start="2025-06-17"))
    audio = estimate(book, "google", "gemini-2.5-flash", input_audio_tokens=M)
    assert (audio.total_nano, audio.cost_nano["audio"], audio.unpriced) == (nano("1.00"), nano("1.00"), ())
    text = estimate(book, "google", "gemini-2.5-flash", input_tokens=M)
    assert text.total_nano == nano("0.30")  # what the audio was priced at before


def test_image_tokens_have_their_own_cost_source():
    book = book_with(row("openai", "gpt-4o", "standard", "input_image", "2.50", start="2024-10-01"))
    result = estimate(book, "openai", "gpt-4o", input_image_tokens=400_000, output_image_tokens=10)
    assert result.cost_nano["image"] == nano("1.00")
    assert result.unpriced == ("output_image",)


def test_audio_and_image_count_towards_the_long_context_prompt():
    book = book_with(row("google", "gemini-2.5-pro", "standard", "input_audio", "1.25", start="2025-06-17"))
    result = estimate(book, "google", "gemini-2.5-pro", input_tokens=150_000, input_audio_tokens=60_000)
    assert result.long_context is True
    assert result.cost_nano["input"] == nano("0.375")  # 150,000 × $2.50 (the >200K rate)


# Bedrock: regional profiles of Claude Sonnet 4.5 cost 10% more than the global one (genai-prices `aws`,
# regional 3.3 / 16.5 / 0.33 / 4.125; global = list).
REGIONAL = [
    row("aws-bedrock", "claude-sonnet-4-5", "standard", usage, price, start="2025-09-29", region_scope="regional")
    for usage, price in (("input", "3.30"), ("output", "16.50"), ("cache_read", "0.33"), ("cache_write_5m", "4.125"))
]


@pytest.mark.parametrize(
    ("raw", "total"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.495"),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.495"),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "0.495"),  # the bare id runs in its own region
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.45"),
        ("claude-sonnet-4-5", "0.45"),  # the canonical code says nothing of the region: list price
    ],
)
def test_bedrock_regional_profiles_cost_more_than_the_global_one(raw, total):
    book = book_with(*REGIONAL)
    result = estimate(book, "aws-bedrock", raw, input_tokens=100_000, output_tokens=10_000)
    assert (result.model, result.total_nano) == ("claude-sonnet-4-5", nano(total))


def test_bedrock_region_before_regional_rows():
    us = estimate(book_with(), "aws-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", input_tokens=100_000,
                  output_tokens=10_000)  # fmt: skip
    assert us.total_nano == nano("0.45")


def test_an_explicit_region_scope_wins_over_the_id():
    book = book_with(*REGIONAL)
    result = estimate(book, "aws-bedrock", "claude-sonnet-4-5", region_scope="regional", input_tokens=100_000)
    assert result.total_nano == nano("0.33")
    with pytest.raises(ValueError, match="region_scope"):
        estimate(book, "aws-bedrock", "claude-sonnet-4-5", region_scope="moon", input_tokens=1)


def test_global_rows_price_requests_of_unknown_scope_after_scope_less_rows():
    rows = [
        row("p", "m", "standard", "input", "1.00", region_scope="global"),
        row("p", "m", "standard", "input", "1.10", region_scope="regional"),
    ]
    book = PriceBook(rows, {}, [])
    assert estimate(book, "p", "m", input_tokens=M).total_nano == nano("1.00")
    assert estimate(book, "p", "m", region_scope="regional", input_tokens=M).total_nano == nano("1.10")
    assert estimate(book, "p", "m", region_scope="global", input_tokens=M).total_nano == nano("1.00")


def test_sonnet_4_batch_long_context_rows_stack():
    # Anthropic: long context and batch stack (3 / 3.75 / 6 / 0.3 / 11.25 per M); the upstream book's
    # corrections carry these rows.
    long_batch = [
        row("anthropic", "claude-sonnet-4", "batch", usage, price, start="2025-08-12", min_context_tokens=200_000)
        for usage, price in (
            ("input", "3.00"),
            ("cache_write_5m", "3.75"),
            ("cache_write_1h", "6.00"),
            ("cache_read", "0.30"),
            ("output", "11.25"),
        )
    ]
    usage = {"input_tokens": 250_000, "output_tokens": 10_000}
    assert estimate(book_with(), "anthropic", "claude-sonnet-4", tier="batch", **usage).total_nano == nano("0.45")
    after = estimate(book_with(*long_batch), "anthropic", "claude-sonnet-4", tier="batch", **usage)
    assert (after.total_nano, after.long_context) == (nano("0.8625"), True)


def test_scale_tier_is_unpriced_until_an_override_prices_it():
    book = book_with()
    scale = estimate(book, "openai", "gpt-4o", tier="scale", input_tokens=M, output_tokens=200_000)
    assert (scale.total_nano, scale.unpriced) == (0, ("input", "output"))
    contract = [
        OverrideRule(provider="openai", model="gpt-4o", usage_type=u, service_tier="scale", price=Decimal(p),
                     unit="1m_tokens")
        for u, p in (("input", "2.00"), ("output", "8.00"))
    ]  # fmt: skip
    priced = estimate(book_with(overrides=contract), "openai", "gpt-4o", tier="scale", input_tokens=M,
                      output_tokens=200_000)  # fmt: skip
    assert (priced.total_nano, priced.unpriced) == (nano("3.60"), ())


def test_gpt_4o_priority():
    # OpenAI priority processing, gpt-4o 4.25 / 17 / 2.125 per M (genai-prices 0.2.5, from 2026-10-12).
    rows = [
        row("openai", "gpt-4o", "priority", usage, price, start="2026-10-12")
        for usage, price in (("input", "4.25"), ("output", "17.00"), ("cache_read", "2.125"))
    ]
    usage = {"input_tokens": M, "output_tokens": 200_000}
    assert estimate(book_with(), "openai", "gpt-4o", tier="priority", **usage).unpriced == ("input", "output")
    assert estimate(book_with(*rows), "openai", "gpt-4o", tier="priority", **usage).total_nano == nano("7.65")


def test_an_organisations_own_model_names():
    override = [
        OverrideRule(provider="openai", model="ft:gpt-4o-mini:globex::x1", usage_type=u, price=Decimal(p),
                     unit="1m_tokens", currency="EUR")
        for u, p in (("input", "0.30"), ("output", "1.20"))
    ]  # fmt: skip
    org_models = {("openai", "ft:gpt-4o-mini:globex::x1"): None, ("openai", "globex-gpt4o-prod"): "gpt-4o"}
    book = book_with(overrides=override, org_models=org_models)
    tuned = estimate(book, "openai", "ft:gpt-4o-mini:globex::x1", input_tokens=M, output_tokens=200_000)
    assert (tuned.model, tuned.total_nano, tuned.currency) == ("ft:gpt-4o-mini:globex::x1", nano("0.54"), "EUR")
    deployment = estimate(book, "openai", "globex-gpt4o-prod", input_tokens=M, output_tokens=200_000)
    assert (deployment.model, deployment.total_nano, deployment.currency) == ("gpt-4o", nano("4.50"), "USD")
    unknown = estimate(book, "openai", "ft:gpt-4o-mini:globex::zz", input_tokens=M)
    assert (unknown.model, unknown.unpriced) == (None, ("input",))


def test_one_estimate_never_sums_two_currencies():
    # A negotiated EUR input price on a USD list: the output stays unpriced rather than added as EUR.
    override = OverrideRule(provider="openai", model="gpt-4o", usage_type="input", price=Decimal("2.00"),
                            unit="1m_tokens", currency="EUR")  # fmt: skip
    result = estimate(book_with(overrides=[override]), "openai", "gpt-4o", input_tokens=M, output_tokens=M)
    assert (result.currency, result.total_nano, result.unpriced) == ("EUR", nano("2.00"), ("output",))


def test_the_book_carries_its_version():
    assert PriceBook([], {}, [], version=7).version == 7
    assert PriceBook([], {}, []).version is None
