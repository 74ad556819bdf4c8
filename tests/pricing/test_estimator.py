"""The published list prices, estimated exactly. These tests build the PriceBook straight from the
shipped file (no database); test_loader checks the database path gives the same numbers."""

import datetime
from decimal import Decimal

import pytest

from apps.pricing.book_file import price_book_from_file
from apps.pricing.estimator import OverrideRule, PriceBook, PriceRule

DAY = datetime.date(2025, 11, 20)
M = 1_000_000
USD = 10**9  # one dollar in nano-units


def nano(amount: str) -> int:
    return int(Decimal(amount) * USD)


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return price_book_from_file()


def estimate(book, provider, model, tier="standard", day=DAY, tools=None, **usage):
    return book.estimate(
        provider=provider,
        model=model,
        service_tier=tier,
        occurred_on=day,
        usage=usage,
        tool_calls=tools or {},
    )


def test_gpt_4o_list_prices_per_million(book):
    result = estimate(book, "openai", "gpt-4o", input_tokens=M, cache_read_tokens=M, output_tokens=M)
    assert result.model == "gpt-4o"
    assert result.cost_nano == {
        "input": nano("2.50"),
        "output": nano("10.00"),
        "cache_read": nano("1.25"),
        "cache_write": 0,
        "tool_calls": 0,
        "audio": 0,
        "image": 0,
    }
    assert result.total_nano == nano("13.75")
    assert result.unpriced == ()
    assert result.long_context is False
    assert result.currency == "USD"


def test_gpt_4o_batch_halves_input_and_output(book):
    result = estimate(book, "openai", "gpt-4o", tier="batch", input_tokens=M, output_tokens=M)
    assert (result.cost_nano["input"], result.cost_nano["output"]) == (nano("1.25"), nano("5.00"))
    assert result.total_nano == nano("6.25")


def test_a_single_gpt_4o_token_is_exact_in_nano_units(book):
    # $2.50 per 1M is 2,500 nano-dollars a token: no rounding at all
    assert estimate(book, "openai", "gpt-4o", input_tokens=1).cost_nano["input"] == 2_500
    # $0.075 per 1M cached (gpt-4o-mini) is 75 nano a token
    assert estimate(book, "openai", "gpt-4o-mini", cache_read_tokens=3).cost_nano["cache_read"] == 225


def test_claude_sonnet_4_5_every_cost_source(book):
    result = estimate(
        book,
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=100_000,
        output_tokens=100_000,
        cache_read_tokens=50_000,
        cache_write_5m_tokens=20_000,
        cache_write_1h_tokens=20_000,
    )
    assert result.cost_nano == {
        "input": nano("0.30"),  # $3 per 1M
        "output": nano("1.50"),  # $15 per 1M
        "cache_read": nano("0.015"),  # $0.30 per 1M
        "cache_write": nano("0.075") + nano("0.12"),  # 5m at $3.75 and 1h at $6 per 1M, one cost source
        "tool_calls": 0,
        "audio": 0,
        "image": 0,
    }
    assert result.total_nano == nano("2.01")
    assert result.long_context is False  # 190,000 prompt tokens


def test_both_cache_write_durations_are_priced_separately(book):
    five = estimate(book, "anthropic", "claude-sonnet-4-5", cache_write_5m_tokens=100_000)
    hour = estimate(book, "anthropic", "claude-sonnet-4-5", cache_write_1h_tokens=100_000)
    assert (five.cost_nano["cache_write"], hour.cost_nano["cache_write"]) == (nano("0.375"), nano("0.60"))


def test_anthropic_web_search_is_ten_dollars_per_thousand(book):
    result = estimate(book, "anthropic", "claude-sonnet-4-5", tools={"web_search": 3}, input_tokens=1200)
    assert result.cost_nano["tool_calls"] == nano("0.03")
    assert result.cost_nano["input"] == 1200 * 3000
    assert result.total_nano == nano("0.03") + 3_600_000


def test_the_event_from_the_design_document(book):
    # 1,200 input, 350 output, 8,000 cache read and one web search on claude-sonnet-4-5
    result = estimate(
        book,
        "anthropic",
        "claude-sonnet-4-5",
        tools={"web_search": 1},
        input_tokens=1200,
        output_tokens=350,
        cache_read_tokens=8000,
    )
    assert result.cost_nano == {
        "input": 3_600_000,  # 1,200 × $0.000003
        "output": 5_250_000,  # 350 × $0.000015
        "cache_read": 2_400_000,  # 8,000 × $0.0000003
        "cache_write": 0,
        "tool_calls": 10_000_000,  # $0.01
        "audio": 0,
        "image": 0,
    }
    assert result.total_nano == 21_250_000


def test_long_context_switches_above_200k_prompt_tokens(book):
    at_threshold = estimate(
        book, "anthropic", "claude-sonnet-4-5", input_tokens=150_000, cache_read_tokens=50_000, output_tokens=M
    )
    assert at_threshold.long_context is False
    assert at_threshold.cost_nano["input"] == 150_000 * 3000
    assert at_threshold.cost_nano["output"] == nano("15.00")
    # one more prompt token (a cache write counts too) moves every usage type to the long-context rate
    above = estimate(
        book,
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=150_000,
        cache_read_tokens=50_000,
        cache_write_5m_tokens=1,
        output_tokens=M,
    )
    assert above.long_context is True
    assert above.cost_nano == {
        "input": 150_000 * 6000,
        "output": nano("22.50"),
        "cache_read": 50_000 * 600,
        "cache_write": 7_500,  # one token at $7.50 per 1M
        "tool_calls": 0,
        "audio": 0,
        "image": 0,
    }


def test_gemini_2_5_pro_long_context_tier(book):
    short = estimate(book, "google", "gemini-2.5-pro", input_tokens=200_000, output_tokens=M)
    long = estimate(book, "google", "gemini-2.5-pro", input_tokens=200_001, output_tokens=M)
    assert (short.cost_nano["input"], short.cost_nano["output"]) == (nano("0.25"), nano("10.00"))
    assert (long.cost_nano["input"], long.cost_nano["output"]) == (200_001 * 2500, nano("15.00"))
    assert long.long_context and not short.long_context


def test_effective_dates_switch_between_rows(book):
    # o3 was cut from $10/$40 to $2/$8 on 2025-06-10 (effective_to is exclusive)
    before = estimate(book, "openai", "o3", day=datetime.date(2025, 6, 9), input_tokens=M, output_tokens=M)
    after = estimate(book, "openai", "o3", day=datetime.date(2025, 6, 10), input_tokens=M, output_tokens=M)
    assert before.total_nano == nano("50.00")
    assert after.total_nano == nano("10.00")
    # before the first row is in force nothing is priced, and says so
    early = estimate(book, "openai", "o3", day=datetime.date(2025, 1, 1), input_tokens=M)
    assert (early.model, early.total_nano, early.unpriced) == ("o3", 0, ("input",))


def test_unknown_model_is_unpriced_never_a_silent_zero(book):
    result = estimate(
        book, "openai", "gpt-9-ultra", tools={"web_search": 2}, input_tokens=10, output_tokens=5, cache_read_tokens=0
    )
    assert result.model is None
    assert result.total_nano == 0
    assert result.unpriced == ("input", "output", "web_search")
    assert estimate(book, "nobody", "gpt-4o", input_tokens=1).unpriced == ("input",)


def test_a_missing_tier_does_not_fall_back_to_standard(book):
    # gpt-4o has no flex rows; claude-sonnet-4-5 has no priority rows
    flex = estimate(book, "openai", "gpt-4o", tier="flex", input_tokens=M, output_tokens=10)
    assert (flex.model, flex.total_nano, flex.unpriced) == ("gpt-4o", 0, ("input", "output"))
    # batch exists but without a cached-input rate for gpt-4o: only that usage type is unpriced
    batch = estimate(book, "openai", "gpt-4o", tier="batch", input_tokens=M, cache_read_tokens=M)
    assert (batch.cost_nano["input"], batch.unpriced) == (nano("1.25"), ("cache_read",))


def test_unknown_tool_is_unpriced(book):
    result = estimate(book, "anthropic", "claude-haiku-4-5", tools={"code_execution": 1, "web_search": 1000})
    assert result.cost_nano["tool_calls"] == nano("10.00")
    assert result.unpriced == ("code_execution",)


def test_zero_usage_costs_nothing_and_is_not_unpriced(book):
    result = estimate(book, "openai", "gpt-9", input_tokens=0)
    assert (result.total_nano, result.unpriced) == (0, ())


def test_other_published_prices(book):
    cases = [
        ("anthropic", "claude-opus-4-1", {"input_tokens": M, "output_tokens": M}, "90.00"),
        ("anthropic", "claude-haiku-4-5", {"input_tokens": M, "output_tokens": M}, "6.00"),
        ("anthropic", "claude-3-5-haiku", {"input_tokens": M, "output_tokens": M}, "4.80"),
        ("openai", "gpt-4.1", {"input_tokens": M, "cache_read_tokens": M, "output_tokens": M}, "10.50"),
        ("openai", "gpt-5", {"input_tokens": M, "cache_read_tokens": M, "output_tokens": M}, "11.375"),
        ("aws-bedrock", "amazon.nova-pro-v1:0", {"input_tokens": M, "output_tokens": M}, "4.00"),
        ("azure-openai", "gpt-4o-mini", {"input_tokens": M, "output_tokens": M}, "0.75"),
    ]
    for provider, model, usage, total in cases:
        assert estimate(book, provider, model, **usage).total_nano == nano(total), (provider, model)


def test_gpt_5_priority_and_flex(book):
    assert estimate(book, "openai", "gpt-5", tier="priority", input_tokens=M).total_nano == nano("2.50")
    assert estimate(book, "openai", "gpt-5", tier="flex", output_tokens=M).total_nano == nano("5.00")


@pytest.mark.parametrize(
    ("provider", "raw", "canonical"),
    [
        ("openai", "gpt-4o", "gpt-4o"),
        ("openai", "GPT-4o-2024-08-06", "gpt-4o"),
        ("openai", "gpt-4o-2024-11-20", "gpt-4o"),
        ("openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # its own, older price: not stripped
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai", "gpt-4.1-2099-01-01", "gpt-4.1"),  # generic date rule, not in the alias table
        ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic", "claude-haiku-4-5-20991231", "claude-haiku-4-5"),
        ("anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("aws-bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("aws-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("aws-bedrock", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),  # generic rules
        ("aws-bedrock", "us.amazon.nova-lite-v1:0", "nova-lite"),
        ("google", "models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("openai", "claude-sonnet-4-5", None),  # right model, wrong provider
        ("openai", "gpt-4o-turbo-max", None),
        ("anthropic", "", None),
    ],
)
def test_resolve_model(book, provider, raw, canonical):
    assert book.resolve_model(provider, raw) == canonical


def test_bedrock_ids_are_priced_like_the_canonical_model(book):
    result = estimate(book, "aws-bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", input_tokens=100_000)
    assert (result.model, result.total_nano) == ("claude-sonnet-4-5", nano("0.30"))


# --- organisation overrides (pure rules) -------------------------------------------------------------


def _rows() -> list[PriceRule]:
    common = {"provider": "acme-ai", "unit": "1m_tokens", "effective_from": datetime.date(2025, 1, 1)}
    return [
        PriceRule(model="big", service_tier="standard", usage_type="input", price=Decimal("10"), **common),
        PriceRule(model="big", service_tier="standard", usage_type="output", price=Decimal("20"), **common),
        PriceRule(model="big", service_tier="batch", usage_type="input", price=Decimal("5"), **common),
        PriceRule(model="small", service_tier="standard", usage_type="input", price=Decimal("1"), **common),
    ]


def _cost(overrides, model="big", tier="standard", day=DAY, **usage):
    book = PriceBook(_rows(), {}, overrides)
    return book.estimate(
        provider="acme-ai", model=model, service_tier=tier, occurred_on=day, usage=usage, tool_calls={}
    )


def test_a_discount_reduces_the_list_price():
    result = _cost([OverrideRule(provider="acme-ai", discount_pct=Decimal("12.5"))], input_tokens=M, output_tokens=M)
    assert result.cost_nano["input"] == nano("8.75")
    assert result.cost_nano["output"] == nano("17.50")


def test_a_negotiated_price_replaces_the_list_price():
    override = OverrideRule(provider="acme-ai", model="big", usage_type="input", price=Decimal("7"), unit="1m_tokens")
    result = _cost([override], input_tokens=M, output_tokens=M)
    assert (result.cost_nano["input"], result.cost_nano["output"]) == (nano("7"), nano("20"))


def test_the_most_specific_override_wins():
    overrides = [
        OverrideRule(provider="acme-ai", discount_pct=Decimal("10")),
        OverrideRule(provider="acme-ai", model="big", discount_pct=Decimal("20")),
        OverrideRule(provider="acme-ai", model="big", usage_type="input", discount_pct=Decimal("30")),
        OverrideRule(
            provider="acme-ai", model="big", usage_type="input", service_tier="batch", discount_pct=Decimal("50")
        ),
    ]
    standard = _cost(overrides, input_tokens=M, output_tokens=M)
    assert standard.cost_nano["input"] == nano("7")  # model + usage type: 30%
    assert standard.cost_nano["output"] == nano("16")  # model: 20%
    assert _cost(overrides, tier="batch", input_tokens=M).cost_nano["input"] == nano("2.5")  # 50% of $5
    assert _cost(overrides, model="small", input_tokens=M).cost_nano["input"] == nano("0.9")  # provider: 10%


def test_overrides_follow_their_effective_dates():
    override = OverrideRule(
        provider="acme-ai",
        discount_pct=Decimal("50"),
        effective_from=datetime.date(2025, 7, 1),
        effective_to=datetime.date(2025, 8, 1),
    )
    costs = [
        _cost([override], day=day, input_tokens=M).cost_nano["input"]
        for day in (
            datetime.date(2025, 6, 30),
            datetime.date(2025, 7, 1),
            datetime.date(2025, 7, 31),
            datetime.date(2025, 8, 1),
        )
    ]
    assert costs == [nano("10"), nano("5"), nano("5"), nano("10")]


def test_a_negotiated_price_can_price_a_tier_the_list_lacks_but_a_discount_cannot():
    discount = OverrideRule(provider="acme-ai", service_tier="flex", discount_pct=Decimal("10"))
    assert _cost([discount], tier="flex", input_tokens=M).unpriced == ("input",)
    price = OverrideRule(
        provider="acme-ai", model="big", usage_type="input", service_tier="flex", price=Decimal("4"), unit="1m_tokens"
    )
    result = _cost([price], tier="flex", input_tokens=M, output_tokens=1)
    assert (result.cost_nano["input"], result.unpriced) == (nano("4"), ("output",))


def test_rounding_is_once_per_cost_source_half_to_even():
    # $0.0000000005 per token: 1 token is half a nano (rounds to 0, even), 3 tokens 1.5 (rounds to 2)
    rows = [PriceRule("p", "m", "standard", "input", "token", Decimal("0.0000000005"))]
    rows.append(PriceRule("p", "m", "standard", "cache_write_5m", "token", Decimal("0.0000000005")))
    rows.append(PriceRule("p", "m", "standard", "cache_write_1h", "token", Decimal("0.0000000005")))
    book = PriceBook(rows, {}, [])

    def cost(**usage):
        return book.estimate(
            provider="p", model="m", service_tier="standard", occurred_on=DAY, usage=usage, tool_calls={}
        ).cost_nano

    assert cost(input_tokens=1)["input"] == 0
    assert cost(input_tokens=3)["input"] == 2
    # 5m and 1h are summed exactly before the one rounding: 0.5 + 0.5 = 1, not 0 + 0
    assert cost(cache_write_5m_tokens=1, cache_write_1h_tokens=1)["cache_write"] == 1


def test_quantities_must_be_whole_numbers(book):
    with pytest.raises(TypeError):
        estimate(book, "openai", "gpt-4o", input_tokens=1.5)
    with pytest.raises(ValueError, match="negative"):
        estimate(book, "openai", "gpt-4o", output_tokens=-1)


def test_price_tables_are_cached_per_model_tier_and_day(book):
    fresh = price_book_from_file()
    for _ in range(3):
        estimate(fresh, "openai", "gpt-4o", input_tokens=1)
        estimate(fresh, "openai", "gpt-4o-2024-08-06", input_tokens=1)
    estimate(fresh, "openai", "gpt-4o", tier="batch", input_tokens=1)
    assert set(fresh._tables) == {("openai", "gpt-4o", "standard", DAY, ""), ("openai", "gpt-4o", "batch", DAY, "")}
