"""Conversions with the shipped ECB history: the exact figures of the plan, to the nano."""

from datetime import date
from fractions import Fraction

import pytest

from apps.fx.convert import Converter, ConvertItem, RateGap, RateTable, convert_nano, decimal_text, target_closed

D = date
NANO = 10**9


def usd_to_eur(table, day, amount):
    return table.rate_on(day, "USD", "EUR").apply(amount * NANO)


def test_day_rates_to_the_nano(ecb_table):
    assert usd_to_eur(ecb_table, D(2026, 10, 1), 100) == 88_511_240_928  # 1.1298
    assert usd_to_eur(ecb_table, D(2026, 10, 30), 100) == 89_509_488_006  # 1.1172
    # 1 GBP in USD, crossed through the euro quotes of the same day: 1.1298 / 0.85373.
    gbp = ecb_table.rate_on(D(2026, 10, 1), "GBP", "USD")
    assert gbp.value == Fraction("1.1298") / Fraction("0.85373")
    assert gbp.apply(1 * NANO) == 1_323_369_215
    assert ecb_table.rate_on(D(2026, 10, 1), "JPY", "EUR").apply(1000 * NANO) == 5_602_554_765


def test_weekends_and_holidays_use_the_last_published_day(ecb_table):
    saturday = ecb_table.rate_on(D(2026, 10, 3), "USD", "EUR")
    assert saturday.rate_day == D(2026, 10, 2)
    assert saturday.apply(100 * NANO) == 89_086_859_688  # 1.1225
    assert ecb_table.rate_on(D(2026, 10, 4), "USD", "EUR").rate_day == D(2026, 10, 2)
    # Easter 2026: Good Friday to Easter Monday without a rate; Monday uses Thursday, four days back.
    assert ecb_table.rate_on(D(2026, 4, 6), "USD", "EUR").rate_day == D(2026, 4, 2)


def test_a_five_day_hole_is_a_gap_not_an_older_rate():
    table = RateTable(
        source="ECB", pivot="EUR", series={"USD": {D(2026, 10, 1): Fraction("1.1298"), D(2026, 10, 9): Fraction(1)}}
    )
    assert table.rate_on(D(2026, 10, 5), "USD", "EUR").rate_day == D(2026, 10, 1)
    with pytest.raises(RateGap) as caught:
        table.rate_on(D(2026, 10, 6), "USD", "EUR")
    gap = caught.value
    assert (gap.currency, gap.first_missing, gap.last_missing, gap.last_loaded) == (
        "USD",
        D(2026, 10, 6),
        D(2026, 10, 6),
        D(2026, 10, 1),
    )


def test_after_the_last_loaded_day_a_working_day_is_a_gap_never_one(ecb_table):
    # The shipped history ends on Friday 2026-10-30: the weekend after it may use it, Monday 2 November may not
    # (its rate is still to be published), although it is only three days later.
    assert ecb_table.rate_on(D(2026, 10, 31), "USD", "EUR").rate_day == D(2026, 10, 30)
    assert ecb_table.rate_on(D(2026, 11, 1), "USD", "EUR").rate_day == D(2026, 10, 30)
    with pytest.raises(RateGap) as caught:
        ecb_table.rate_on(D(2026, 11, 2), "USD", "EUR")
    assert caught.value.currency == "USD"
    assert caught.value.last_loaded == D(2026, 10, 30)
    assert "USD" in str(caught.value) and "2026-11-02" in str(caught.value) and "2026-10-30" in str(caught.value)


def test_an_ended_currency_is_a_gap(ecb_table):
    assert ecb_table.rate_on(D(2025, 12, 31), "BGN", "EUR").rate_day == D(2025, 12, 31)
    with pytest.raises(RateGap) as caught:
        ecb_table.rate_on(D(2026, 1, 5), "BGN", "EUR")
    assert caught.value.last_loaded == D(2025, 12, 31)


def test_same_currency_needs_no_rate():
    empty = RateTable(source="ECB", pivot="EUR", series={})
    assert empty.rate_on(D(2026, 11, 2), "EUR", "EUR").value == 1
    converter = Converter(base="EUR", policy="usage_day", table=empty)
    assert converter.convert(123_456_789, "EUR", day=D(2026, 11, 2)) == 123_456_789
    assert converter.lines == {}


def test_month_mean_october_2026(ecb_table):
    mean = ecb_table.mean_over(D(2026, 10, 1), D(2026, 10, 31), "USD", "EUR")
    assert mean.days_averaged == 22
    assert 1 / mean.value == Fraction("24.6435") / 22  # mean USD quote 1.120159090909…
    assert mean.apply(100 * NANO) == 89_273_033_457
    assert mean.quotes["USD"]["sum"] == "24.6435"
    september = ecb_table.mean_over(D(2026, 9, 1), D(2026, 9, 30), "USD", "EUR")
    assert september.days_averaged == 22
    assert decimal_text(1 / september.value) == "1.151322727273"


def test_policies(ecb_table):
    october = {"period_start": D(2026, 10, 1), "period_end": D(2026, 10, 31)}
    period_end = Converter(base="EUR", policy="period_end", table=ecb_table, **october)
    assert period_end.rate_for("USD", day=D(2026, 10, 3)).rate_day == D(2026, 10, 30)
    assert period_end.convert(100 * NANO, "USD", day=D(2026, 10, 3)) == 89_509_488_006

    average = Converter(base="EUR", policy="month_average", table=ecb_table, **october)
    assert average.convert(100 * NANO, "USD", day=D(2026, 10, 1)) == 89_273_033_457

    usage_day = Converter(base="EUR", policy="usage_day", table=ecb_table)
    assert usage_day.convert(100 * NANO, "USD", day=D(2026, 10, 1)) == 88_511_240_928
    # A one-day invoice line at its day's rate, a longer one at the mean over its charge period.
    assert usage_day.convert(100 * NANO, "USD", start=D(2026, 10, 1), end=D(2026, 10, 1)) == 88_511_240_928
    assert usage_day.convert(100 * NANO, "USD", start=D(2026, 10, 1), end=D(2026, 10, 31)) == 89_273_033_457
    lines = usage_day.lines
    assert len(lines) == 2
    day_line = lines[("USD", D(2026, 10, 1), None, None)]
    assert (day_line.amount_nano, day_line.converted_nano, day_line.count) == (200 * NANO, 177_022_481_856, 2)


def test_globex_months_at_the_month_mean(ecb_table):
    figures = {}
    for month, (first, last, usd) in {
        "2026-09": (D(2026, 9, 1), D(2026, 9, 30), 99_286_285_225),
        "2026-10": (D(2026, 10, 1), D(2026, 10, 31), 102_465_437_875),
    }.items():
        converter = Converter(base="EUR", policy="month_average", table=ecb_table, period_start=first, period_end=last)
        figures[month] = converter.convert(usd, "USD")
    assert figures == {"2026-09": 86_236_710_935, "2026-10": 91_474_004_636}
    november = Converter(
        base="EUR", policy="month_average", table=ecb_table, period_start=D(2026, 11, 1), period_end=D(2026, 11, 30)
    )
    with pytest.raises(RateGap) as caught:
        november.convert(86_804_851_000, "USD")
    gap = caught.value
    assert (gap.currency, gap.first_missing, gap.last_missing, gap.last_loaded) == (
        "USD",
        D(2026, 11, 2),
        D(2026, 11, 30),
        D(2026, 10, 30),
    )


def test_convert_all_names_every_currency_and_the_days(ecb_table):
    converter = Converter(base="EUR", policy="usage_day", table=ecb_table)
    items = [
        ConvertItem(NANO, "USD", day=D(2026, 10, 30)),
        ConvertItem(NANO, "USD", day=D(2026, 11, 3)),
        ConvertItem(NANO, "USD", day=D(2026, 11, 20)),
        ConvertItem(NANO, "GBP", day=D(2026, 11, 4)),
        ConvertItem(NANO, "EUR", day=D(2026, 11, 4)),
    ]
    with pytest.raises(RateGap) as caught:
        converter.convert_all(items)
    found = {(gap.currency, gap.first_missing, gap.last_missing) for gap in caught.value.all}
    assert found == {("GBP", D(2026, 11, 4), D(2026, 11, 4)), ("USD", D(2026, 11, 3), D(2026, 11, 20))}


def test_own_pairs_direct_or_inverse_never_triangulated():
    table = RateTable(
        source="own",
        series={
            ("USD", "EUR"): {D(2026, 11, 2): Fraction("0.8712")},
            ("EUR", "GBP"): {D(2026, 11, 2): Fraction("0.88")},
        },
    )
    assert table.rate_on(D(2026, 11, 2), "USD", "EUR").apply(100 * NANO) == 87_120_000_000
    inverse = table.rate_on(D(2026, 11, 2), "EUR", "USD")
    assert inverse.value == 1 / Fraction("0.8712")
    with pytest.raises(RateGap) as caught:
        table.rate_on(D(2026, 11, 2), "USD", "GBP")  # USD→EUR→GBP would be a triangulation
    assert caught.value.currency == "USD"


def test_rounding_is_half_to_even_once():
    assert convert_nano(1, 1, 2) == 0
    assert convert_nano(3, 1, 2) == 2
    assert convert_nano(-3, 1, 2) == -2
    assert convert_nano(5, 1, 10) == 0
    assert convert_nano(15, 1, 10) == 2


def test_target_calendar():
    assert target_closed(D(2026, 4, 3)) and target_closed(D(2026, 4, 6))  # Good Friday, Easter Monday
    assert target_closed(D(2025, 12, 25)) and target_closed(D(2025, 12, 26)) and target_closed(D(2026, 5, 1))
    assert not target_closed(D(2026, 11, 2))
