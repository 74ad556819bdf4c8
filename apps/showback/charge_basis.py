"""The charge basis of a forecast, as pure arithmetic: a cost owner's charge ratio (what its final statements
charged per unit of its usage) and a usage forecast scaled by it. The selectors measure the ratio on closed
periods and apply it (``selectors_forecasts``); ``forecast.py`` only ever forecasts the series it is given.
Exact: ``Fraction`` throughout, the ratio rounded once to nine decimals and each amount once to a nano
(half-even)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from .forecast import Forecast

NANO = 10**9


@dataclass(frozen=True)
class ChargeRatio:
    """What a cost owner was charged per unit of its usage over the latest closed periods: final statements
    include shared pools, platform overhead and the invoice true-up, which the cube's estimate does not.
    ``basis`` is "charged" when measured, "usage" (ratio 1) when there is no closed period to measure it on."""

    ratio: Decimal  # nine decimal places, rounded once (half-even) from the exact quotient
    basis: str  # "charged" | "usage"
    periods: int  # closed periods it was measured over
    charged_nano: int = 0
    usage_nano: int = 0


USAGE_BASIS = ChargeRatio(ratio=Decimal("1.000000000"), basis="usage", periods=0)


def ratio_of(charged_nano: int, usage_nano: int) -> Decimal:
    """charged / usage, exact, rounded once to nine decimals (half-even)."""
    return Decimal(round(Fraction(charged_nano * NANO, usage_nano))).scaleb(-9)


def scale_forecast(forecast: Forecast, ratio: Decimal) -> Forecast:
    """The usage forecast times the charge ratio (point and interval), each rounded once to a nano."""

    def times(amount: int) -> int:
        return round(Fraction(amount) * Fraction(ratio))

    return replace(
        forecast,
        amount_nano=times(forecast.amount_nano),
        lower_nano=times(forecast.lower_nano),
        upper_nano=times(forecast.upper_nano),
    )
