"""The one CSV writer of the product: no cell it writes can run as a spreadsheet formula.

Every file the product writes as CSV (statement, reconciliation and ingest-error exports, the catalog
sections) goes through ``CsvWriter``; nothing else in ``apps/`` calls ``csv.writer``.

The rule follows OWASP "CSV Injection" (CWE-1236):

* **Text is neutralised.** A text cell that begins with ``=``, ``+``, ``-``, ``@``, tab (0x09), carriage
  return (0x0D) or line feed (0x0A) gets a single quote in front (``=HYPERLINK(..)`` is written as
  ``'=HYPERLINK(..)``), so a spreadsheet shows it as text instead of evaluating it. A text cell that
  already begins with a single quote gets one more, so the mapping is one-to-one: ``restore`` (strip one
  leading quote when a trigger or a quote follows it) gives back exactly the text that went in, which is
  what the catalog import does with the product's own catalog exports.
* **Every text cell is wrapped in double quotes** (inner double quotes doubled, RFC 4180). OWASP warns
  that a separator inside a value (``a;=1+2``) can start a new cell with a trigger in the middle of the
  text when a spreadsheet splits on a character the writer did not quote (``;`` in many locales, or any
  separator a user picks in an import dialog). Inside double quotes no separator splits a cell, so the
  only cell start that matters is the first character, which the rule above covers.
* **Numbers are not text.** ``int`` and finite ``Decimal`` values are written bare (Decimals in plain
  notation, never ``1E+1``), so an amount of ``Decimal("-12.50")`` stays a negative number that a
  spreadsheet can sum. This is a property of the API: the product's own figures are passed as numbers;
  anything passed as a string, however numeric it looks, is treated as untrusted text (``"-12.50"`` is
  written ``"'-12.50"``). ``float`` (money is never a float) and ``bool`` (say how a flag is written:
  "true", "yes") are refused with ``TypeError``; ``None`` is an empty cell; anything else (dates, lazy
  strings) is written as its text, neutralised.

Downloads are built in memory and returned whole (``csv_response``); there is deliberately no streaming
variant. Every export of the product is bounded (one statement's lines, one reconciliation run's lines, the
capped list of one ingest job's errors), and a streamed body is produced after the view has returned, when
the request's tenancy scope (django-scopes, opened by the middleware) has already closed, so its queries
would fail closed or have to reopen the scope outside the request's checks.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

from django.http import HttpResponse

TRIGGERS = frozenset("=+-@\t\r\n")
QUOTE = "'"
CONTENT_TYPE = "text/csv; charset=utf-8"

Cell = str | int | Decimal | None


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: a single quote in front when it begins with a formula
    trigger (or with a single quote, to keep the mapping reversible)."""
    if text and (text[0] in TRIGGERS or text[0] == QUOTE):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The inverse of ``neutralise``: ``restore(neutralise(t)) == t`` for every text ``t``. A cell read from a
    file the product wrote loses the quote it was given; other text is unchanged."""
    if len(text) >= 2 and text[0] == QUOTE and (text[1] in TRIGGERS or text[1] == QUOTE):
        return text[1:]
    return text


def _is_number(value) -> bool:
    if isinstance(value, bool):
        raise TypeError("A CSV cell cannot be a bool: write the flag as text (e.g. 'true'/'false').")
    if isinstance(value, float):
        raise TypeError("A CSV cell cannot be a float: pass an exact Decimal or an int.")
    return isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())


def encode_cell(value: Cell) -> str:
    """One cell as it appears in the file: a bare number, an empty cell for None, or quoted text."""
    if value is None:
        return ""
    if _is_number(value):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    text = neutralise(str(value))
    return '"' + text.replace('"', '""') + '"'


def encode_row(cells: Iterable[Cell], *, lineterminator: str = "\r\n") -> str:
    encoded = [encode_cell(cell) for cell in cells]
    if encoded == [""]:
        encoded = ['""']  # a row of one empty cell, not a blank line that readers skip
    return ",".join(encoded) + lineterminator


class CsvWriter:
    """Writes safe rows to a text stream (anything with ``write(str)``: an ``io.StringIO``, an
    ``HttpResponse``). With ``fieldnames`` it also takes mappings, like ``csv.DictWriter``: missing keys
    are empty cells, unknown keys are an error."""

    def __init__(self, out, *, fieldnames: Sequence[str] | None = None, lineterminator: str = "\r\n"):
        self.out = out
        self.fieldnames = list(fieldnames) if fieldnames is not None else None
        self.lineterminator = lineterminator

    def writeheader(self) -> None:
        if self.fieldnames is None:
            raise TypeError("writeheader() needs the writer's fieldnames.")
        self.writerow(self.fieldnames)

    def _cells(self, row: Mapping[str, Cell] | Iterable[Cell]) -> Iterable[Cell]:
        if not isinstance(row, Mapping):
            return row
        if self.fieldnames is None:
            raise TypeError("A mapping row needs the writer's fieldnames.")
        unknown = [key for key in row if key not in self.fieldnames]
        if unknown:
            raise ValueError(f"Row has keys that are not columns: {', '.join(map(repr, unknown))}.")
        return [row.get(name) for name in self.fieldnames]

    def writerow(self, row: Mapping[str, Cell] | Iterable[Cell]) -> None:
        self.out.write(encode_row(self._cells(row), lineterminator=self.lineterminator))

    def writerows(self, rows: Iterable[Mapping[str, Cell] | Iterable[Cell]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(
    rows: Iterable[Mapping[str, Cell] | Iterable[Cell]],
    *,
    header: Sequence[str] | None = None,
    fieldnames: Sequence[str] | None = None,
    lineterminator: str = "\r\n",
) -> str:
    """A whole file as text: ``header`` (or the ``fieldnames``) first, then the rows."""
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=fieldnames, lineterminator=lineterminator)
    if header is not None:
        writer.writerow(header)
    elif fieldnames is not None:
        writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_response(*, filename: str, header: Sequence[str], rows: Iterable[Iterable[Cell]]) -> HttpResponse:
    """A download: ``text/csv`` in UTF-8, as an attachment called ``filename``."""
    response = HttpResponse(content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = CsvWriter(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def read_records(text: str) -> Iterator[dict]:
    """The rows of a CSV with a header line as dicts (like ``csv.DictReader``), each text cell passed
    through ``restore`` so that a file the product wrote reads back exactly as it was exported. Cells beyond
    the header stay under the key ``None``; ``csv.Error`` propagates."""
    for record in csv.DictReader(io.StringIO(text)):
        yield {
            key: restore(value) if isinstance(value, str) and key is not None else value
            for key, value in record.items()
        }
