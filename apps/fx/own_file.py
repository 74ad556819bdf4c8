"""Reading an organisation's own exchange rates from CSV (pure: no database).

Columns (a header row, in any order): ``day`` (2026-11-02), ``from``, ``to`` (ISO codes), ``rate`` (units of
``to`` per one ``from``, a plain decimal with at most ten decimals), optional ``source`` (default "own") and
``note``. Every row is checked; the first errors are reported by line and nothing is loaded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .ecb import ECB_SOURCE, EcbFileError, parse_rate, rate_e10

MAX_OWN_ROWS = 50_000
OWN_SOURCE = "own"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
REQUIRED_COLUMNS = ("day", "from", "to", "rate")


class OwnRatesError(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class OwnRate:
    day: date
    from_currency: str
    to_currency: str
    rate: Decimal
    source: str = OWN_SOURCE
    note: str = ""

    @property
    def rate_e10(self) -> int:
        return rate_e10(self.rate)


def own_rate(*, day, from_currency, to_currency, rate, source="", note="", where="") -> OwnRate:
    """One own rate, checked (``where`` prefixes the messages); raises ``OwnRatesError``."""
    errors: list[str] = []
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            errors.append(f"{where}day {day!r} is not a date like 2026-11-02.")
    elif not isinstance(day, date):
        errors.append(f"{where}a day is required.")
    codes = []
    for label, code in (("from", from_currency), ("to", to_currency)):
        code = (code or "").strip().upper()
        if not _CURRENCY.match(code):
            errors.append(f"{where}{label} currency {code!r} is not a three-letter ISO code.")
        codes.append(code)
    if codes[0] and codes[0] == codes[1]:
        errors.append(f"{where}from and to are the same currency.")
    value = None
    try:
        value = parse_rate(str(rate).strip(), where=f"{where}rate ")
    except EcbFileError as exc:
        errors.append(str(exc))
    source = (source or "").strip() or OWN_SOURCE
    if source.upper() == ECB_SOURCE:
        errors.append(f"{where}the source name ECB is kept for the ECB reference rates.")
    if len(source) > 40:
        errors.append(f"{where}the source name is longer than 40 characters.")
    note = (note or "").strip()
    if len(note) > 500:
        errors.append(f"{where}the note is longer than 500 characters.")
    if errors:
        raise OwnRatesError(errors)
    return OwnRate(day, codes[0], codes[1], value, source, note)


def read_own_rates(text: str) -> list[OwnRate]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise OwnRatesError(
            [f"The header needs the columns {', '.join(REQUIRED_COLUMNS)} (missing: {', '.join(missing)})."]
        )
    reader.fieldnames = header
    rates: list[OwnRate] = []
    errors: list[str] = []
    seen: set[tuple] = set()
    for number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        if len(rates) >= MAX_OWN_ROWS:
            raise OwnRatesError([f"More than {MAX_OWN_ROWS:,} rates in one file."])
        try:
            rate = own_rate(
                day=row.get("day") or "",
                from_currency=row.get("from"),
                to_currency=row.get("to"),
                rate=row.get("rate") or "",
                source=row.get("source") or "",
                note=row.get("note") or "",
                where=f"Line {number}: ",
            )
        except OwnRatesError as exc:
            errors.extend(exc.errors)
        else:
            key = (rate.source, rate.day, rate.from_currency, rate.to_currency)
            if key in seen:
                errors.append(f"Line {number}: {rate.from_currency}/{rate.to_currency} on {rate.day} appears twice.")
            seen.add(key)
            rates.append(rate)
        if len(errors) >= 20:
            break
    if errors:
        raise OwnRatesError(errors)
    if not rates:
        raise OwnRatesError(["The file holds no rates."])
    return rates
