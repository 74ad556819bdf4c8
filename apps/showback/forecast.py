"""Monthly spend forecasts: pure functions over a list of monthly amounts in nano-units (oldest first).

Methods (their names are stored on a snapshot):

- ``ets_damped``: statsmodels' ``ExponentialSmoothing`` with an additive, damped trend (Holt's damped method),
  parameters and initial state estimated by maximum likelihood; needs ``MIN_ETS_MONTHS`` of history.
- ``ets_level``: the same without a trend (simple exponential smoothing).
- ``naive``: last month again.
- ``mean3``: the mean of the last (up to) three months.

An ETS method with fewer than ``MIN_ETS_MONTHS`` months falls back to ``mean3`` (and says so in ``method``).
The 80% prediction interval of the ETS methods comes from the fitted model's own simulation (``simulate``,
additive normal errors with the variance of the fit, ``SIMULATIONS`` paths from a fixed seed, so the same
history always gives the same interval): its 10th and 90th percentiles. ``naive`` and ``mean3`` take theirs
from the spread of the months they use (normal quantile × sample standard deviation; ± ``SINGLE_MONTH_SPREAD``
of the value when there is only one month).

Money never travels as a float: the history goes into statsmodels as floats divided by a scale (the mean
absolute amount, so the optimiser works on numbers near 1), and what comes out is converted once, here, to
nano-unit ints (``_to_nano``: Decimal of the float's shortest repr × scale, rounded half-even). The fallback
methods compute in Decimal throughout. A lower bound below zero is clipped at zero: spend is never negative.

Everything here forecasts the series it is given (usage); the charge forecast of a cost owner (usage
forecast times its charge ratio) is made by the callers (``selectors_forecasts``), which keeps this pure.

``backtest`` replays the history with a rolling origin (fit on months ``[0, t)``, forecast month ``t``, for
every ``t`` from ``min_train``) and scores each method by MAPE, bias and the share of actuals inside the
interval; ``DEFAULT_METHOD`` was chosen with it on the demo history (README, "Forecasts and spend spikes"):
one month ahead over May to November 2026, ``ets_damped`` 8.09% MAPE per cost centre and 4.73% for the
organisation, against 11.9% / 12.6% for no trend or last month and 21.9% / 24.0% for the three-month mean.
"""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from apps.core.calendar import month_before

METHODS = ("ets_damped", "ets_level", "naive", "mean3")
DEFAULT_METHOD = "ets_damped"
MIN_ETS_MONTHS = 6
FALLBACK_MONTHS = 3
INTERVAL = Decimal("0.80")
SIMULATIONS = 2000
SEED = 16
SINGLE_MONTH_SPREAD = Decimal("0.25")  # ± 25% around a single month (no spread to measure)
# The normal quantile of the interval's upper edge (0.90 for an 80% interval), from the standard library.
Z_INTERVAL = Decimal(repr(statistics.NormalDist().inv_cdf(float((1 + INTERVAL) / 2))))
MATURE_APE = Decimal("0.12")  # FinOps: a forecast within 12% of the actual is "mature"
# The simulated ETS interval only knows the fit's residual variance, not the uncertainty of its parameters or
# of the trend: on the demo's rolling-origin backtest it held 55% of the actuals for a nominal 80%. Its
# half-widths are scaled by the 80th percentile of the backtest's normalised errors (|actual - forecast| over
# the half-width on the actual's side, ``BacktestScore.needed_widen``), measured on the demo history (README).
INTERVAL_WIDEN = Decimal("1.73")


def months_back(last: date, count: int) -> list[date]:
    """``count`` month starts ending with ``last``, oldest first."""
    months = [last]
    while len(months) < count:
        months.append(month_before(months[-1]))
    return months[::-1]


def trim_series(by_month: dict[date, int], months: list[date]) -> list[int]:
    """The months' amounts from the first month with spend on (a cost centre's history starts there)."""
    values = [by_month.get(month, 0) for month in months]
    start = next((i for i, value in enumerate(values) if value), len(values))
    return values[start:]


@dataclass(frozen=True)
class Forecast:
    amount_nano: int
    lower_nano: int
    upper_nano: int
    method: str  # the method that actually produced it (a fallback names itself)
    history_months: int


def _to_nano(value: float, scale: Decimal) -> int:
    """The one float → money boundary: a statsmodels float (in units of ``scale``) to nano-units."""
    return int((Decimal(repr(float(value))) * scale).to_integral_value(rounding=ROUND_HALF_EVEN))


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def _clip(amount: int, lower: int, upper: int, method: str, months: int) -> Forecast:
    amount = max(amount, 0)
    lower = max(min(lower, amount), 0)
    upper = max(upper, amount)
    return Forecast(amount_nano=amount, lower_nano=lower, upper_nano=upper, method=method, history_months=months)


def _spread_forecast(point: Decimal, values: Sequence[int], method: str, months: int) -> Forecast:
    if len(values) >= 2:
        half = Z_INTERVAL * Decimal(statistics.stdev(Decimal(v) for v in values))
    else:
        half = abs(point) * SINGLE_MONTH_SPREAD
    return _clip(_round(point), _round(point - half), _round(point + half), method, months)


def _naive(history: Sequence[int]) -> Forecast:
    # The spread of the last three months' month-on-month changes would be the textbook interval; the spread
    # of the months themselves is the plainer one and is what the fallback uses too.
    recent = history[-FALLBACK_MONTHS:]
    return _spread_forecast(Decimal(history[-1]), recent, "naive", len(history))


def _mean(history: Sequence[int], method: str = "mean3") -> Forecast:
    recent = history[-FALLBACK_MONTHS:]
    point = Decimal(sum(recent)) / Decimal(len(recent))
    return _spread_forecast(point, recent, method, len(history))


def _ets(history: Sequence[int], *, trend: bool, method: str, widen: Decimal) -> Forecast:
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if len(set(history)) == 1:  # a constant series forecasts itself (the likelihood is degenerate there)
        return _clip(history[-1], history[-1], history[-1], method, len(history))
    scale = Decimal(sum(abs(v) for v in history)) / Decimal(len(history))
    endog = np.array([float(Decimal(v) / scale) for v in history])
    with warnings.catch_warnings():
        # Convergence chatter from the optimiser on short series; the backtest is the judge of the fit.
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            endog,
            trend="add" if trend else None,
            damped_trend=trend,
            initialization_method="estimated",
        )
        fitted = model.fit()
        point = float(fitted.forecast(1)[0])
        paths = fitted.simulate(1, repetitions=SIMULATIONS, rng=np.random.default_rng(SEED))
    low_q = float((1 - INTERVAL) / 2)
    lower, upper = np.quantile(np.asarray(paths).reshape(-1), [low_q, 1 - low_q])
    amount, low, high = _to_nano(point, scale), _to_nano(lower, scale), _to_nano(upper, scale)
    # widened around the point, in Decimal, after the one float → nano conversion
    low = amount - _round(Decimal(amount - low) * widen)
    high = amount + _round(Decimal(high - amount) * widen)
    return _clip(amount, low, high, method, len(history))


def forecast_next(
    history: Sequence[int], *, method: str = DEFAULT_METHOD, widen: Decimal = INTERVAL_WIDEN
) -> Forecast | None:
    """The next month's forecast from ``history`` (monthly nano amounts, oldest first; gaps are months of
    zero and must be in the list), or None without history. ``widen`` scales the ETS interval's half-widths
    (1: the simulation's own)."""
    if method not in METHODS:
        raise ValueError(f"Unknown forecast method {method!r}; one of {', '.join(METHODS)}.")
    history = [int(v) for v in history]
    if not history:
        return None
    if method == "naive":
        return _naive(history)
    if method == "mean3":
        return _mean(history)
    if len(history) < MIN_ETS_MONTHS:
        return _mean(history, method="mean3")
    return _ets(history, trend=method == "ets_damped", method=method, widen=Decimal(widen))


@dataclass(frozen=True)
class BacktestScore:
    method: str
    points: int  # forecasts scored (origins with a non-zero actual)
    mape: Decimal | None  # mean absolute percentage error, as a fraction (0.10 = 10%)
    bias: Decimal | None  # Σ(forecast − actual) / Σ actual: positive = over-forecast
    coverage: Decimal | None  # share of actuals inside the 80% interval
    # The factor the interval's half-widths would need for 80% of these actuals to fall inside: the 80th
    # percentile (nearest rank) of |actual − forecast| / the half-width on the actual's side.
    needed_widen: Decimal | None = None

    def as_dict(self) -> dict:
        def pct(value: Decimal | None) -> str | None:
            return None if value is None else str((value * 100).quantize(Decimal("0.01")))

        return {
            "method": self.method,
            "points": self.points,
            "mape_pct": pct(self.mape),
            "bias_pct": pct(self.bias),
            "coverage_pct": pct(self.coverage),
            "needed_widen": None if self.needed_widen is None else str(self.needed_widen.quantize(Decimal("0.01"))),
        }


def score(method: str, pairs: Iterable[tuple[Forecast, int]]) -> BacktestScore:
    """MAPE, bias, coverage and the interval's needed widening of (forecast, actual) pairs (actual ≠ 0)."""
    ape_sum, points, error_sum, actual_sum, covered = Decimal(0), 0, 0, 0, 0
    normalised: list[Decimal] = []
    for result, actual in pairs:
        ape_sum += Decimal(abs(result.amount_nano - actual)) / Decimal(abs(actual))
        error_sum += result.amount_nano - actual
        actual_sum += actual
        covered += result.lower_nano <= actual <= result.upper_nano
        points += 1
        half = (
            result.upper_nano - result.amount_nano
            if actual >= result.amount_nano
            else result.amount_nano - result.lower_nano
        )
        if half > 0:
            normalised.append(Decimal(abs(actual - result.amount_nano)) / Decimal(half))
    needed = None
    if normalised:
        normalised.sort()
        rank = -(-len(normalised) * 4 // 5)  # nearest rank of the 80th percentile: ceil(0.8 n)
        needed = normalised[rank - 1]
    return BacktestScore(
        method=method,
        points=points,
        mape=ape_sum / points if points else None,
        bias=Decimal(error_sum) / Decimal(actual_sum) if actual_sum else None,
        coverage=Decimal(covered) / points if points else None,
        needed_widen=needed,
    )


def backtest(
    series: Iterable[Sequence[int]],
    *,
    methods: Sequence[str] = METHODS,
    min_train: int = MIN_ETS_MONTHS,
    widen: Decimal = INTERVAL_WIDEN,
) -> list[BacktestScore]:
    """Rolling-origin, one-month-ahead backtest of ``methods`` over every series (pooled: one score per
    method). Every method is scored on the same origins (``t ≥ min_train``, actual ≠ 0), so the default
    ``min_train`` compares the ETS methods with the plain ones where ETS is allowed to run."""
    series = [[int(v) for v in s] for s in series]
    return [
        score(
            method,
            (
                (forecast_next(values[:t], method=method, widen=widen), values[t])
                for values in series
                for t in range(max(min_train, 1), len(values))
                if values[t] != 0
            ),
        )
        for method in methods
    ]


def choose_method(scores: Sequence[BacktestScore]) -> str | None:
    """The method with the lowest MAPE (ties: the earlier in ``METHODS``)."""
    scored = [s for s in scores if s.mape is not None]
    if not scored:
        return None
    return min(scored, key=lambda s: (s.mape, METHODS.index(s.method))).method


def accuracy(*, forecast_nano: int, actual_nano: int) -> tuple[Decimal | None, Decimal | None]:
    """(absolute percentage error, bias) of one forecast against its actual, as fractions; None when the
    actual is zero (no percentage of nothing)."""
    if actual_nano == 0:
        return None, None
    error = Decimal(forecast_nano - actual_nano) / Decimal(abs(actual_nano))
    return abs(error), error
