"""What every ingest reader (usage and invoices) shares, whatever the file's format: the row errors, the
file-level refusal, line and CSV record iteration, and the value readers that turn one field into an exact,
bounded value or a ``RowProblem`` naming the field. The formats themselves live with their apps."""

import csv
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from apps.core.ceilings import (
    MAX_AMOUNT_PER_ROW,
    MAX_CALLS_PER_ROW,
    MAX_QUANTITY_PER_ROW,
    MAX_TOKENS_PER_ROW,
)
from apps.taxonomy.normalise import storage_problem

MAX_LINE_BYTES = 64 * 1024


class FileRefused(Exception):
    """The file as a whole cannot be read (empty, not UTF-8, unknown format). Nothing is written."""


class RowProblem(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str


def json_loads(text: str | bytes):
    # Exact from the first byte: JSON numbers with a fraction become Decimals, never floats.
    return json.loads(text, parse_float=Decimal)


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes) with the newline stripped; bytes is None for a line longer than
    MAX_LINE_BYTES, which is skipped without holding it in memory."""
    line_no = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        line_no += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(MAX_LINE_BYTES)
            yield line_no, None
            continue
        yield line_no, chunk.rstrip(b"\r\n")


def as_int(value, field_name: str, *, ceiling: int = MAX_TOKENS_PER_ROW) -> int:
    """A whole, non-negative count of at most ``ceiling`` (apps.core.ceilings)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise RowProblem(field_name, "must be a whole number, not true/false")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise RowProblem(field_name, f"must be a whole number, got {value}")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise RowProblem(field_name, f"must be a whole number, got {value!r}")
        number = int(text)
    else:
        raise RowProblem(field_name, f"must be a whole number, got {type(value).__name__}")
    if number < 0:
        raise RowProblem(field_name, f"must not be negative, got {number}")
    if number > ceiling:
        raise RowProblem(field_name, f"is {number:,}, above the ceiling of {ceiling:,} per row")
    return number


def as_calls(value, field_name: str) -> int:
    """A count of calls or requests in one row (tool calls of one tool, requests in a bucket)."""
    return as_int(value, field_name, ceiling=MAX_CALLS_PER_ROW)


def as_decimal(value, field_name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise RowProblem(field_name, "must be a decimal number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise RowProblem(field_name, f"must be a decimal number, got {value!r}") from exc
    if not number.is_finite():
        raise RowProblem(field_name, f"must be a finite number, got {value!r}")
    return number


def _bounded(number: Decimal | None, field_name: str, ceiling: Decimal, what: str) -> Decimal | None:
    if number is not None and abs(number) > ceiling:
        raise RowProblem(field_name, f"is {_short(number)}, beyond the ceiling of {ceiling:,} {what} per row")
    return number


def _short(number: Decimal) -> str:
    text = f"{number:f}" if abs(number.adjusted()) < 30 else f"{number:E}"
    return text if len(text) <= 40 else f"{number:.6E}"


def as_amount(value, field_name: str) -> Decimal | None:
    """An amount of money (either sign) of at most MAX_AMOUNT_PER_ROW currency units."""
    return _bounded(as_decimal(value, field_name), field_name, MAX_AMOUNT_PER_ROW, "currency units")


def as_quantity(value, field_name: str) -> Decimal | None:
    """A usage quantity (tokens, hours, requests) of at most MAX_QUANTITY_PER_ROW either way."""
    return _bounded(as_decimal(value, field_name), field_name, MAX_QUANTITY_PER_ROW, "units")


_window: tuple[float, datetime, datetime] | None = None  # (valid until, earliest, latest)
WINDOW_REFRESH_SECONDS = 1.0


def timestamp_window() -> tuple[datetime, datetime]:
    """(earliest, latest) plausible instant of a row: settings INGEST_EARLIEST_DATE and
    INGEST_MAX_FUTURE_HOURS ahead of now. Called per row, so kept for a second (and dropped when a
    setting changes)."""
    global _window
    window = _window
    clock = time.monotonic()
    if window is None or clock > window[0]:
        earliest = datetime.combine(date.fromisoformat(settings.INGEST_EARLIEST_DATE), dt_time(), tzinfo=UTC)
        latest = datetime.now(UTC) + timedelta(hours=settings.INGEST_MAX_FUTURE_HOURS)
        window = _window = (clock + WINDOW_REFRESH_SECONDS, earliest, latest)
    return window[1], window[2]


@receiver(setting_changed)
def _forget_window(*, setting, **kwargs) -> None:
    global _window
    if setting.startswith("INGEST_"):
        _window = None


def in_window(instant: datetime, field_name: str) -> datetime:
    """The instant, or a RowProblem naming the window when it is implausibly early or late."""
    earliest, latest = timestamp_window()
    if instant < earliest:
        raise RowProblem(field_name, f"is {instant:%Y-%m-%d}, before {earliest:%Y-%m-%d}, the earliest date accepted")
    if instant > latest:
        hours = settings.INGEST_MAX_FUTURE_HOURS
        raise RowProblem(field_name, f"is {instant:%Y-%m-%d %H:%M} UTC, more than {hours} hours ahead of now")
    return instant


def as_bool(value, field_name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "t"}:
        return True
    if text in {"false", "0", "no", "n", "f"}:
        return False
    raise RowProblem(field_name, f"must be true or false, got {value!r}")


def as_timestamp(value, field_name: str) -> datetime:
    if value is None or value == "":
        raise RowProblem(field_name, "is required")
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            instant = datetime.fromtimestamp(int(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RowProblem(field_name, f"is not a valid epoch timestamp: {value}") from exc
        return in_window(instant, field_name)
    if not isinstance(value, str):
        raise RowProblem(field_name, f"must be an ISO 8601 timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
        # A timestamp without an offset is read as UTC (documented in the README).
        instant = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise RowProblem(field_name, f"is not an ISO 8601 timestamp: {value!r}") from exc
    return in_window(instant, field_name)


def as_text(value, field_name: str, *, required: bool = False, max_length: int = 200) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowProblem(field_name, "is required")
        return ""
    if isinstance(value, dict | list):
        raise RowProblem(field_name, "must be a string")
    text = str(value).strip()
    if len(text) > max_length:
        raise RowProblem(field_name, f"is longer than {max_length} characters")
    problem = storage_problem(text)
    if problem:
        raise RowProblem(field_name, problem)
    return text


def as_mapping(value, field_name: str) -> dict:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise RowProblem(field_name, "must be an object")
    return value


def csv_records(reader) -> Iterator[tuple[int, dict | str]]:
    """(line number, row) for each row of a ``csv.DictReader``, or (line number, message) for a row the
    csv module cannot read (a field over its size limit, a NUL byte …): that row is refused and reading
    goes on with the next line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A DictReader's own line_num moves only on success; its underlying reader's has moved on.
            yield getattr(reader, "reader", reader).line_num, _csv_message(exc)
            continue
        yield reader.line_num, row


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit():,} characters; the row is refused"
    return f"cannot be read as CSV: {text}"
