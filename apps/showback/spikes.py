"""Spend spikes: a team's or a model's spend on a day far above its recent band raises an alert.

The band is robust to the spikes it looks for: the median of the trailing ``TRAILING_DAYS`` days (days without
spend count as zero) plus ``K`` × the median absolute deviation scaled by ``MAD_SCALE`` (1.4826 makes the MAD
estimate a normal distribution's standard deviation). A day fires when it exceeds that band by more than
``FLOOR_NANO`` as well (one unit of the base currency), so a team that spends cents does not alarm over a few
more cents, and a flat history (MAD 0) needs a real jump; a series with spend on fewer than ``MIN_ACTIVE_DAYS``
of the trailing days has no band yet and is not judged. Each spike raises one alert (kind ``spike``, key
``team:<value>`` or ``model:<value>``, period = the day) linking to the requests behind it; evaluating the
same day again raises nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import median

TRAILING_DAYS = 28
K = Decimal(5)
MAD_SCALE = Decimal("1.4826")
FLOOR_NANO = 1_000_000_000
MIN_ACTIVE_DAYS = 7
DIMENSIONS = ("team", "model")


@dataclass(frozen=True)
class Spike:
    dimension: str  # team | model
    value: str
    day: date
    amount_nano: int
    median_nano: int
    band_nano: int  # median + K × scaled MAD: above it (by FLOOR_NANO or more) is a spike

    @property
    def key(self) -> str:
        return f"{self.dimension}:{self.value}"


def band(trailing: list[int]) -> tuple[int, int]:
    """(median, median + K × 1.4826 × MAD) of ``trailing`` day amounts, in nano (rounded half-even)."""
    middle = Decimal(median(trailing))
    mad = Decimal(median(abs(Decimal(value) - middle) for value in trailing))
    upper = middle + K * MAD_SCALE * mad
    return int(middle.to_integral_value()), int(upper.to_integral_value())


def judge(*, dimension: str, value: str, day: date, amount: int, trailing: list[int]) -> Spike | None:
    """The spike of ``amount`` on ``day`` against its ``trailing`` days, or None."""
    if sum(1 for v in trailing if v) < MIN_ACTIVE_DAYS:
        return None
    middle, upper = band(trailing)
    if amount > upper and amount - upper >= FLOOR_NANO:
        return Spike(dimension=dimension, value=value, day=day, amount_nano=amount, median_nano=middle, band_nano=upper)
    return None
