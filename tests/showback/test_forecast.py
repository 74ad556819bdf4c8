"""The pure forecast functions: known series, the fallback, the interval, the backtest, accuracy."""

from decimal import Decimal

import pytest

from apps.showback.forecast import (
    INTERVAL_WIDEN,
    METHODS,
    MIN_ETS_MONTHS,
    Z_INTERVAL,
    Forecast,
    accuracy,
    backtest,
    choose_method,
    forecast_next,
    score,
)

UNIT = 1_000_000_000  # one currency unit in nano


def test_no_history_no_forecast():
    assert forecast_next([]) is None


@pytest.mark.parametrize("method", METHODS)
def test_a_flat_series_forecasts_itself(method):
    result = forecast_next([7 * UNIT] * 8, method=method)
    assert (result.amount_nano, result.lower_nano, result.upper_nano) == (7 * UNIT, 7 * UNIT, 7 * UNIT)
    assert isinstance(result.amount_nano, int) and isinstance(result.lower_nano, int)


def test_damped_trend_lies_between_last_value_and_linear_extrapolation():
    history = [(100 + 10 * i) * UNIT for i in range(8)]  # 100 … 170, +10 a month
    result = forecast_next(history, method="ets_damped")
    assert result.method == "ets_damped"
    assert 170 * UNIT < result.amount_nano <= 180 * UNIT
    assert result.lower_nano <= result.amount_nano <= result.upper_nano
    assert all(isinstance(v, int) for v in (result.amount_nano, result.lower_nano, result.upper_nano))


def test_ets_is_deterministic_and_its_interval_holds_the_point():
    history = [v * UNIT for v in (100, 120, 90, 110, 130, 100, 140, 125)]
    first, second = forecast_next(history), forecast_next(history)
    assert first == second
    assert first.lower_nano < first.amount_nano < first.upper_nano


def test_short_history_falls_back_to_the_mean_with_an_interval_from_the_spread():
    # 2 months: mean 150, sample standard deviation of (100, 200) = 70.710678…; half-width = z(0.90) × sd.
    result = forecast_next([100 * UNIT, 200 * UNIT], method="ets_damped")
    assert result.method == "mean3" and result.history_months == 2
    assert result.amount_nano == 150 * UNIT
    half = Z_INTERVAL * Decimal(50 * UNIT) * Decimal(2).sqrt()
    assert abs(result.upper_nano - (150 * UNIT + half)) <= 1
    assert abs(result.lower_nano - (150 * UNIT - half)) <= 1
    assert Decimal("1.2815") < Z_INTERVAL < Decimal("1.2816")


def test_mean3_uses_the_last_three_months_only():
    result = forecast_next([999 * UNIT, 10 * UNIT, 20 * UNIT, 30 * UNIT], method="mean3")
    assert result.amount_nano == 20 * UNIT
    # sample sd of (10, 20, 30) is exactly 10 units
    assert result.upper_nano - result.amount_nano == int((Z_INTERVAL * 10 * UNIT).to_integral_value())


def test_one_month_gets_the_stated_spread_and_a_negative_lower_bound_is_clipped():
    one = forecast_next([40 * UNIT])
    assert (one.amount_nano, one.lower_nano, one.upper_nano) == (40 * UNIT, 30 * UNIT, 50 * UNIT)
    wild = forecast_next([0, 100 * UNIT, 0], method="mean3")
    assert wild.lower_nano == 0 and wild.amount_nano == 33_333_333_333


def test_naive_repeats_last_month():
    assert forecast_next([5 * UNIT, 9 * UNIT, 4 * UNIT], method="naive").amount_nano == 4 * UNIT


def test_backtest_scores_every_method_on_the_same_origins():
    series = [[v * UNIT for v in (100, 100, 100, 100, 100, 100, 110, 120)]]
    scores = {s.method: s for s in backtest(series)}
    # origins t = 6 and 7 (MIN_ETS_MONTHS = 6): actuals 110 and 120
    assert MIN_ETS_MONTHS == 6
    assert {s.points for s in scores.values()} == {2}
    # naive: forecasts 100 then 110 → APE 10/110 and 10/120; bias (−10 − 10) / 230
    naive = scores["naive"]
    assert naive.mape == (Decimal(10) / 110 + Decimal(10) / 120) / 2
    assert naive.bias == Decimal(-20) / Decimal(230)
    # mean3: 100 then 103.33… → APE 10/110 and 16.66…/120
    mean3 = scores["mean3"]
    assert abs(mean3.mape - (Decimal(10) / 110 + (Decimal(120) - Decimal(310) / 3) / 120) / 2) < Decimal("1e-9")
    assert choose_method(list(scores.values())) in METHODS
    assert naive.as_dict()["mape_pct"] == "8.71"


def test_accuracy_hand_computed():
    assert accuracy(forecast_nano=110 * UNIT, actual_nano=100 * UNIT) == (Decimal("0.1"), Decimal("0.1"))
    assert accuracy(forecast_nano=80 * UNIT, actual_nano=100 * UNIT) == (Decimal("0.2"), Decimal("-0.2"))
    assert accuracy(forecast_nano=5, actual_nano=0) == (None, None)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        forecast_next([1], method="prophet")


def test_widen_scales_the_ets_half_widths_around_the_point():
    history = [v * UNIT for v in (100, 120, 90, 110, 130, 100, 140, 125)]
    own, wide = forecast_next(history, widen=Decimal(1)), forecast_next(history, widen=Decimal(2))
    assert wide.amount_nano == own.amount_nano
    assert wide.upper_nano - wide.amount_nano == 2 * (own.upper_nano - own.amount_nano)
    assert wide.amount_nano - wide.lower_nano == 2 * (own.amount_nano - own.lower_nano)
    assert forecast_next(history).upper_nano - own.amount_nano == round(
        (own.upper_nano - own.amount_nano) * INTERVAL_WIDEN
    )


def test_score_and_the_widening_the_interval_needed():
    def f(amount, lower, upper):
        return Forecast(amount * UNIT, lower * UNIT, upper * UNIT, "ets_damped", 6)

    # errors over the half-width on their side: 5/10 = 0.5 (inside), 20/10 = 2 (above), 3/6 = 0.5 (below,
    # inside), 30/10 = 3 (above), 0 (exact)
    pairs = [(f(100, 90, 110), 105), (f(100, 90, 110), 120), (f(100, 94, 110), 97), (f(100, 90, 110), 130)]
    pairs.append((f(100, 90, 110), 100))
    result = score("ets_damped", [(fc, a * UNIT) for fc, a in pairs])
    assert result.points == 5 and result.coverage == Decimal(3) / 5
    # sorted 0, 0.5, 0.5, 2, 3: the 80th percentile by nearest rank is the ceil(0.8 × 5) = 4th, 2
    assert result.needed_widen == 2
    # bias: forecasts 500 against actuals 105 + 120 + 97 + 130 + 100 = 552 → (500 − 552) / 552
    assert result.bias == Decimal(-52) / Decimal(552)
    assert result.as_dict()["needed_widen"] == "2.00"
