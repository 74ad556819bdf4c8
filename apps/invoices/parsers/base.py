"""What every invoice reader yields, and the small helpers they share.

The generic helpers (``RowError``, ``FileRefused``, ``RowProblem``, ``as_decimal`` …, ``json_loads`` with
``parse_float=Decimal``) come from ``apps.ingest.rows``; this module adds only what bills need.
"""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import BinaryIO

from apps.ingest.rows import FileRefused, RowProblem, as_timestamp, csv_records, in_window

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")


@dataclass(slots=True)
class ParsedLine:
    """One charge as read from the source, before model names are resolved against the price book."""

    line: int
    invoice_provider: str
    invoice_number: str
    billing_period: date
    currency: str
    charge_period_start: datetime
    charge_period_end: datetime
    amount: Decimal
    provider: str
    service: str = ""
    model_raw: str = ""
    # A canonical code the reader already knows (e.g. from the CUR usage-type table); wins over resolution.
    model_hint: str = ""
    cost_source: str = "other"
    usage_type: str = ""
    charge_category: str = "Usage"
    is_ai: bool = True
    quantity: Decimal | None = None
    unit: str = ""
    tags: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    # True when the invoice number was derived (cost reports carry none); such invoices are per period.
    derived_number: bool = False
    # The source's own id of the row (CUR ``identity_line_item_id`` with its time interval), when it has one: two
    # rows of one file with the same id are one charge. Without an id, identical rows are separate charges.
    source_id: str = ""

    def line_key(self, format_name: str) -> str:
        """Deterministic: the same source row always gives the same key, so a second ingest is a no-op."""
        identity = {
            "format": format_name,
            "provider": self.invoice_provider,
            "invoice": self.invoice_number,
            "period": self.billing_period.isoformat(),
            "row": self.raw,
        }
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def bucket_key(self, format_name: str) -> str | None:
        """The identity of a cost-report bucket without its amount: a re-pulled report that says something else
        for the same bucket (day, model, token type, workspace …) restates it. None for formats without buckets
        (FOCUS, CUR and the generic CSV carry invoice-level charges, not a report's buckets)."""
        return bucket_key_of(format_name, self.invoice_provider, self.invoice_number, self.billing_period, self.raw)


# The result fields that are the bucket's figures, not its identity (everything else in ``raw`` is identity: the
# bucket's start and end, line item or cost and token type, model, project or workspace, tier, currency …).
BUCKET_FIGURES = {"openai-costs": ("amount", "quantity"), "anthropic-cost-report": ("amount",)}


def bucket_key_of(format_name: str, provider: str, invoice_number: str, period: date, raw: dict) -> str | None:
    """sha256 of a report row's identity. A copy of this function lives in migration 0008 (bucket keys of the
    lines stored before it): change both or neither."""
    figures = BUCKET_FIGURES.get(format_name)
    if figures is None:
        return None
    identity = {
        "format": format_name,
        "provider": provider,
        "invoice": invoice_number,
        "period": period.isoformat(),
        "bucket": {k: v for k, v in raw.items() if k not in figures},
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def occurrence_key(line_key: str, occurrence: int) -> str:
    """The key of the n-th identical row of one file (n >= 2): the first keeps the row's own key, so every key
    stored before rows were counted stays valid."""
    return line_key if occurrence < 2 else hashlib.sha256(f"{line_key}#{occurrence}".encode()).hexdigest()


def month_start(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def as_instant(value, field_name: str) -> datetime:
    """An ISO timestamp or a bare date (read as midnight UTC)."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = datetime.combine(date.fromisoformat(value.strip()), time(), tzinfo=UTC)
        except ValueError as exc:
            raise RowProblem(field_name, f"is not a date: {value!r}") from exc
        return in_window(day, field_name)
    if isinstance(value, str):
        # CUR and FOCUS exports often write "2026-10-01 00:00:00" or a trailing "Z"; fromisoformat takes both.
        value = value.strip().replace(" UTC", "")
    return as_timestamp(value, field_name)


def as_currency(value, field_name: str) -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if len(code) != 3 or not code.isalpha():
        raise RowProblem(field_name, f"must be a three-letter currency code such as USD, got {value!r}")
    return code


def as_charge_category(value, field_name: str = "ChargeCategory") -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    for category in CHARGE_CATEGORIES:
        if text.lower() == category.lower():
            return category
    raise RowProblem(field_name, f"must be one of {', '.join(CHARGE_CATEGORIES)}, got {value!r}")


def as_json_object(value, field_name: str) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value, parse_float=Decimal)
    except (TypeError, ValueError) as exc:
        raise RowProblem(field_name, f"is not valid JSON: {exc}") from exc
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise RowProblem(field_name, "must be a JSON object")
    return {str(k): v if isinstance(v, str) else str(v) for k, v in parsed.items()}


def csv_rows(
    stream: BinaryIO,
    *,
    required: tuple[str, ...],
    aliases: dict[str, str] | None = None,
    null_literal: str | None = None,
) -> Iterator[tuple[int, dict] | tuple[int, str]]:
    """Yield (line number, row) for each CSV row, or (line number, message) for a row with the wrong
    number of values. Refuses the file when a required column is missing. ``aliases`` renames columns
    (old name -> new name) so a reader sees one vocabulary; ``null_literal`` values become ""."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    if reader.fieldnames is None:
        raise FileRefused("the file is empty")
    columns = [c.strip() for c in reader.fieldnames]
    for old, new in (aliases or {}).items():
        if old in columns and new not in columns:
            columns[columns.index(old)] = new
    reader.fieldnames = columns
    missing = [c for c in required if c not in columns]
    if missing:
        raise FileRefused(f"the header lacks the column(s) {', '.join(missing)}")
    for line_no, row in csv_records(reader):
        if isinstance(row, str):
            yield line_no, row
            continue
        if None in row or any(value is None for value in row.values()):
            yield line_no, f"has a different number of values than the {len(columns)} columns of the header"
            continue
        if null_literal is not None:
            row = {k: ("" if v.strip() == null_literal else v) for k, v in row.items()}
        yield line_no, row
