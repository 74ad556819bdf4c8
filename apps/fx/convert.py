"""Converting amounts between currencies (pure: no database).

- ``RateTable``: the published rates of one source. ECB rates are quotes against the euro ("1 EUR = x"), and
  a rate between two currencies is the cross of their quotes of the same date (``to / from``, an exact
  fraction). An organisation's own rates are pairs: the exact pair or its inverse, never a triangulation.
- The rate of a day is the latest published on or before it, at most ``FX_MAX_RATE_AGE_DAYS`` earlier
  (weekends and holidays: the longest run without an ECB rate in 27 years is four days). After the last day
  a series holds, only closed TARGET days (weekends, New Year, Good Friday, Easter Monday, 1 May, 25 and 26
  December) may use it: a working day with no rate yet is a gap, because its rate is still to come.
  Anything else is a ``RateGap`` naming the currency and the days; a rate is never invented (no 1.0, no
  interpolation, no older rate).
- ``convert_nano``: one rounding, half to even, to the nano unit.
- ``Converter``: applies an organisation's policy (``usage_day``, ``month_average``, ``period_end``) and
  keeps, per rate used, the amounts it converted (the lines a ``Conversion`` records).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

FX_MAX_RATE_AGE_DAYS = 4

USAGE_DAY = "usage_day"
MONTH_AVERAGE = "month_average"
PERIOD_END = "period_end"
POLICIES = (USAGE_DAY, MONTH_AVERAGE, PERIOD_END)


def charge_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last UTC day a charge period covers (its end is exclusive: 10-01 00:00 → 11-01 00:00 is
    10-01 … 10-31): the days an invoice line is converted over, the same in reconciliation and allocation."""
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    first = start_utc.date()
    if end_utc <= start_utc:
        return first, first
    return first, max(first, (end_utc - timedelta(microseconds=1)).date())


def convert_nano(nano: int, num: int, den: int) -> int:
    """``nano × num / den`` rounded once, half to even, to a whole nano unit."""
    if den <= 0 or num <= 0:
        raise ValueError("A rate is a positive fraction.")
    return round(Fraction(int(nano) * int(num), int(den)))


def decimal_text(value: Fraction, places: int = 12) -> str:
    """``value`` as a decimal string rounded half-even to ``places`` (for display and the audit trail)."""
    scaled = round(value * 10**places)
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


class RateGap(Exception):
    """No rate for ``currency`` on the days ``first_missing`` … ``last_missing`` (``last_loaded``: the last
    day the source holds a rate for it, or None). ``more``: gaps of other currencies found in the same pass."""

    def __init__(
        self,
        currency: str,
        first_missing: date,
        last_missing: date,
        last_loaded: date | None = None,
        *,
        source: str = "ECB",
        more: tuple[RateGap, ...] = (),
    ):
        self.currency = currency
        self.first_missing = first_missing
        self.last_missing = last_missing
        self.last_loaded = last_loaded
        self.source = source
        self.more = tuple(more)
        super().__init__(self.message)

    @property
    def all(self) -> tuple[RateGap, ...]:
        return (self, *self.more)

    @property
    def days_text(self) -> str:
        if self.first_missing == self.last_missing:
            return self.first_missing.isoformat()
        return f"{self.first_missing.isoformat()} to {self.last_missing.isoformat()}"

    @property
    def own_message(self) -> str:
        loaded = (
            f"the last {self.currency} rate loaded is of {self.last_loaded.isoformat()}"
            if self.last_loaded
            else f"no {self.currency} rate is loaded"
        )
        return f"No {self.source} exchange rate for {self.currency} on {self.days_text} ({loaded})."

    @property
    def message(self) -> str:
        return " ".join(gap.own_message for gap in (self, *getattr(self, "more", ())))

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "first_missing": self.first_missing.isoformat(),
            "last_missing": self.last_missing.isoformat(),
            "last_loaded": self.last_loaded.isoformat() if self.last_loaded else None,
            "source": self.source,
        }


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def target_closed(day: date) -> bool:
    """A day the ECB publishes no reference rate on: weekends and the TARGET holidays."""
    if day.weekday() >= 5:
        return True
    if (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return True
    easter = easter_sunday(day.year)
    return day in (easter - timedelta(days=2), easter + timedelta(days=1))


@dataclass(frozen=True)
class Rate:
    """``value`` units of ``to_currency`` per unit of ``from_currency``.

    A day rate has ``rate_day`` (the published day used); a mean has ``first_day``/``last_day`` and the number
    of published days averaged. ``quotes``: the published figures it was computed from (for the record)."""

    from_currency: str
    to_currency: str
    value: Fraction
    source: str
    rate_day: date | None = None
    first_day: date | None = None
    last_day: date | None = None
    days_averaged: int = 1
    quotes: dict = field(default_factory=dict, compare=False)

    @property
    def num(self) -> int:
        return self.value.numerator

    @property
    def den(self) -> int:
        return self.value.denominator

    @property
    def display(self) -> str:
        return decimal_text(self.value)

    def apply(self, nano: int) -> int:
        return convert_nano(nano, self.num, self.den)


def _text(value: Fraction) -> str:
    """A published figure back as written (it has at most ten decimals), else an exact fraction."""
    if (value * 10**10).denominator == 1:
        return decimal_text(value, 10).rstrip("0").rstrip(".")
    return f"{value.numerator}/{value.denominator}"


class RateTable:
    """The rates of one source, in memory.

    ``series`` maps a key to ``{day: value}``: with ``pivot`` (the ECB: ``"EUR"``) the key is a currency and the
    value its units per one pivot unit; without, the key is a pair ``(from, to)`` and the value units of ``to``
    per ``from``. ``last_loaded`` gives, per key, the last day the source holds (defaults to the series' last
    day; give it when the table holds only a window of the source)."""

    def __init__(
        self,
        *,
        source: str,
        series: Mapping,
        pivot: str | None = None,
        last_loaded: Mapping | None = None,
        max_age_days: int = FX_MAX_RATE_AGE_DAYS,
        window: tuple[date, date] | None = None,
    ):
        self.source = source
        self.pivot = pivot
        # The days a table read from the database was loaded for: asking outside them is a programming error
        # (the rates exist, the table just does not hold them), never a gap.
        self.window = window
        self.max_age_days = max_age_days
        self.series: dict = {key: {day: Fraction(value) for day, value in days.items()} for key, days in series.items()}
        self._days = {key: sorted(days) for key, days in self.series.items()}
        self.last_loaded = {key: (days[-1] if days else None) for key, days in self._days.items()}
        if last_loaded:
            self.last_loaded.update({key: value for key, value in last_loaded.items() if value is not None})

    # -- one series -------------------------------------------------------------------------------------------

    def _usable(self, key, published: date, day: date) -> bool:
        """May ``day`` use the value published on ``published`` (at most four days back; after the series'
        last day only across closed days)?"""
        if (day - published).days > self.max_age_days:
            return False
        last = self.last_loaded.get(key)
        if last is not None and day > last:
            probe = max(last, published) + timedelta(days=1)
            while probe <= day:
                if not target_closed(probe):
                    return False
                probe += timedelta(days=1)
        return True

    def _latest(self, key, day: date) -> date | None:
        days = self._days.get(key) or []
        index = bisect.bisect_right(days, day)
        return days[index - 1] if index else None

    def _last_before(self, key, day: date) -> date | None:
        latest = self._latest(key, day)
        last = self.last_loaded.get(key)
        if latest is None:
            return last if last is not None and last <= day else None
        return latest

    # -- rates ------------------------------------------------------------------------------------------------

    def rate_on(self, day: date, from_currency: str, to_currency: str) -> Rate:
        """The rate of ``day`` (see the module docstring); ``RateGap`` when there is none."""
        if self.window is not None and not self.window[0] <= day <= self.window[1]:
            raise LookupError(
                f"The rate table holds {self.window[0]} to {self.window[1]}; {day} is outside it: load the table "
                "for every day to convert."
            )
        if from_currency == to_currency:
            return Rate(from_currency, to_currency, Fraction(1), self.source, rate_day=day, quotes={})
        if self.pivot is not None:
            return self._cross_on(day, from_currency, to_currency)
        return self._pair_on(day, from_currency, to_currency)

    def _gap(self, currency: str, key, first: date, last: date) -> RateGap:
        return RateGap(currency, first, last, self._last_before(key, last), source=self.source)

    def _cross_on(self, day: date, frm: str, to: str) -> Rate:
        keys = [currency for currency in (frm, to) if currency != self.pivot]
        for back in range(self.max_age_days + 1):
            published = day - timedelta(days=back)
            if all(published in self.series.get(key, {}) for key in keys):
                for key in keys:
                    if not self._usable(key, published, day):
                        raise self._gap(key, key, day, day)
                quote_from = self.series[frm][published] if frm != self.pivot else Fraction(1)
                quote_to = self.series[to][published] if to != self.pivot else Fraction(1)
                quotes = {key: _text(self.series[key][published]) for key in keys}
                return Rate(
                    frm,
                    to,
                    quote_to / quote_from,
                    self.source,
                    rate_day=published,
                    quotes={"day": published.isoformat(), "per": self.pivot, **quotes},
                )
        missing = next(
            (
                key
                for key in keys
                if not any(day - timedelta(days=b) in self.series.get(key, {}) for b in range(self.max_age_days + 1))
            ),
            keys[0],
        )
        raise self._gap(missing, missing, day, day)

    def _pair_on(self, day: date, frm: str, to: str) -> Rate:
        direct, inverse = (frm, to), (to, frm)
        for back in range(self.max_age_days + 1):
            published = day - timedelta(days=back)
            for key, invert in ((direct, False), (inverse, True)):
                value = self.series.get(key, {}).get(published)
                if value is None:
                    continue
                if not self._usable(key, published, day):
                    continue
                rate = 1 / value if invert else value
                quotes = {"day": published.isoformat(), f"{key[0]}/{key[1]}": _text(value)}
                return Rate(frm, to, rate, self.source, rate_day=published, quotes=quotes)
        raise RateGap(frm, day, day, self._pair_last(frm, to, day), source=self.source)

    def _pair_last(self, frm: str, to: str, day: date) -> date | None:
        found = [self._last_before(key, day) for key in ((frm, to), (to, frm))]
        found = [value for value in found if value is not None]
        return max(found) if found else None

    def mean_over(self, first: date, last: date, from_currency: str, to_currency: str) -> Rate:
        """The mean of the rates published on the days ``first`` … ``last`` (every day of which must have a
        rate of its day, else ``RateGap`` naming the days without). With a pivot, the mean of each quote is
        taken (the ECB's own figures) and then crossed; for pairs, the mean of the daily pair rates."""
        if last < first:
            raise ValueError("The period ends before it starts.")
        if from_currency == to_currency:
            return Rate(
                from_currency, to_currency, Fraction(1), self.source, first_day=first, last_day=last, days_averaged=0
            )
        used: dict[date, Rate] = {}
        missing: list[date] = []
        gap: RateGap | None = None
        day = first
        while day <= last:
            try:
                rate = self.rate_on(day, from_currency, to_currency)
            except RateGap as exc:
                missing.append(day)
                gap = gap or exc
            else:
                used.setdefault(rate.rate_day, rate)
            day += timedelta(days=1)
        if missing:
            raise RateGap(gap.currency, missing[0], missing[-1], gap.last_loaded, source=self.source)
        inside = {published: rate for published, rate in used.items() if first <= published <= last} or used
        days = sorted(inside)
        count = len(days)
        if self.pivot is not None:

            def mean_quote(currency: str) -> Fraction:
                if currency == self.pivot:
                    return Fraction(1)
                return sum((self.series[currency][published] for published in days), Fraction(0)) / count

            mean_from, mean_to = mean_quote(from_currency), mean_quote(to_currency)
            value = mean_to / mean_from
            quotes = {
                "per": self.pivot,
                "days": [published.isoformat() for published in days],
                **{
                    currency: {
                        "mean": _text(mean) if (mean * 10**10).denominator == 1 else decimal_text(mean, 15),
                        "sum": _text(mean * count),
                    }
                    for currency, mean in ((from_currency, mean_from), (to_currency, mean_to))
                    if currency != self.pivot
                },
            }
        else:
            value = sum((inside[published].value for published in days), Fraction(0)) / count
            quotes = {
                "days": [published.isoformat() for published in days],
                "rates": [_text(inside[published].value) for published in days],
            }
        return Rate(
            from_currency,
            to_currency,
            value,
            self.source,
            first_day=first,
            last_day=last,
            days_averaged=count,
            quotes=quotes,
        )

    def coverage(self) -> dict:
        """``{key: (first day, last day, number of days)}`` of what the table holds."""
        return {key: (days[0], days[-1], len(days)) for key, days in self._days.items() if days}


@dataclass(frozen=True)
class ConvertItem:
    """One amount to convert: a day's amount (``day``) or a charge period's (``start`` … ``end``)."""

    amount_nano: int
    currency: str
    day: date | None = None
    start: date | None = None
    end: date | None = None


@dataclass
class ConvertedLine:
    """What was converted at one rate: the sum of the source amounts and of the converted (each rounded once)."""

    from_currency: str
    to_currency: str
    rate: Rate
    for_day: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    amount_nano: int = 0
    converted_nano: int = 0
    count: int = 0


class Converter:
    """Converts amounts into ``base`` by ``policy`` with the rates of ``table``.

    ``period_start``/``period_end``: the billing period being computed (needed by ``month_average`` and
    ``period_end``). ``usage_day``: a day's amount at the day's rate; a one-day charge period at its day's rate,
    a longer one at the mean over its days. ``month_average``: every amount at the mean of the period.
    ``period_end``: every amount at the rate of the period's last day. Amounts already in ``base`` pass
    unchanged and need no rate."""

    def __init__(
        self,
        *,
        base: str,
        policy: str,
        table: RateTable,
        period_start: date | None = None,
        period_end: date | None = None,
    ):
        if policy not in POLICIES:
            raise ValueError(f"Unknown exchange-rate policy {policy!r}.")
        if policy != USAGE_DAY and (period_start is None or period_end is None):
            raise ValueError(f"The {policy} policy needs the period's first and last day.")
        self.base = base
        self.policy = policy
        self.table = table
        self.period_start = period_start
        self.period_end = period_end
        self.lines: dict[tuple, ConvertedLine] = {}
        self._rates: dict[tuple, Rate] = {}

    @property
    def source(self) -> str:
        return self.table.source

    def _key(self, currency: str, *, day, start, end) -> tuple:
        if self.policy == MONTH_AVERAGE or self.policy == PERIOD_END:
            return (currency, None, self.period_start, self.period_end)
        if day is not None:
            return (currency, day, None, None)
        if start is None or end is None:
            raise ValueError("An amount needs its day or its charge period.")
        if start == end:
            return (currency, start, None, None)
        return (currency, None, start, end)

    def rate_for(self, currency: str, *, day=None, start=None, end=None) -> Rate:
        key = self._key(currency, day=day, start=start, end=end)
        rate = self._rates.get(key)
        if rate is None:
            _, for_day, first, last = key
            if self.policy == PERIOD_END:
                rate = self.table.rate_on(self.period_end, currency, self.base)
            elif for_day is not None:
                rate = self.table.rate_on(for_day, currency, self.base)
            else:
                rate = self.table.mean_over(first, last, currency, self.base)
            self._rates[key] = rate
        return rate

    def convert(self, amount_nano: int, currency: str, *, day=None, start=None, end=None) -> int:
        """``amount_nano`` of ``currency`` in the base currency; ``RateGap`` when its rate is missing."""
        if currency == self.base:
            return int(amount_nano)
        rate = self.rate_for(currency, day=day, start=start, end=end)
        converted = rate.apply(amount_nano)
        key = self._key(currency, day=day, start=start, end=end)
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = ConvertedLine(
                from_currency=currency,
                to_currency=self.base,
                rate=rate,
                for_day=key[1],
                period_start=key[2],
                period_end=key[3],
            )
        line.amount_nano += int(amount_nano)
        line.converted_nano += converted
        line.count += 1
        return converted

    def convert_all(self, items: Iterable[ConvertItem]) -> list[int]:
        """Every item converted, in order; when rates are missing, one ``RateGap`` that names every currency
        and the first and last day without a rate (after trying them all)."""
        results: list[int] = []
        gaps: dict[str, list[RateGap]] = {}
        for item in items:
            try:
                results.append(
                    self.convert(item.amount_nano, item.currency, day=item.day, start=item.start, end=item.end)
                )
            except RateGap as gap:
                gaps.setdefault(gap.currency, []).append(gap)
        if gaps:
            raise merge_gaps([gap for found in gaps.values() for gap in found])
        return results

    def totals(self) -> dict[str, dict[str, int]]:
        """``{currency: {"amount_nano": …, "converted_nano": …}}`` over every line converted."""
        out: dict[str, dict[str, int]] = {}
        for line in self.lines.values():
            entry = out.setdefault(line.from_currency, {"amount_nano": 0, "converted_nano": 0})
            entry["amount_nano"] += line.amount_nano
            entry["converted_nano"] += line.converted_nano
        return out


def merge_gaps(gaps: Iterable[RateGap]) -> RateGap:
    """One gap per currency (first to last missing day), chained in ``more``."""
    by_currency: dict[str, RateGap] = {}
    for gap in gaps:
        for one in gap.all:
            known = by_currency.get(one.currency)
            if known is None:
                by_currency[one.currency] = RateGap(
                    one.currency, one.first_missing, one.last_missing, one.last_loaded, source=one.source
                )
            else:
                by_currency[one.currency] = RateGap(
                    one.currency,
                    min(known.first_missing, one.first_missing),
                    max(known.last_missing, one.last_missing),
                    max(filter(None, (known.last_loaded, one.last_loaded)), default=None),
                    source=one.source,
                )
    if not by_currency:
        raise ValueError("No gap to merge.")
    first, *rest = (by_currency[currency] for currency in sorted(by_currency))
    return RateGap(
        first.currency,
        first.first_missing,
        first.last_missing,
        first.last_loaded,
        source=first.source,
        more=tuple(rest),
    )
