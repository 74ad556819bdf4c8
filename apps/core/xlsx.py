"""The one XLSX writer of the product, with the same rule as ``apps.core.csv``: no text cell is a formula.

openpyxl stores any ``str`` that begins with ``=`` as a formula. This writer never lets it: every text cell
is written as an inline string (its data type set to text explicitly, after the value), and its text goes
through ``apps.core.csv.neutralise`` first, so a cell the CSV writer writes as ``'=HYPERLINK(..)`` is the
same text in the XLSX file. The two files of one list therefore agree cell for cell.

* **Text** (``str`` and anything else not listed below, e.g. lazy strings) is neutralised and stored as a
  string cell. Characters XML 1.0 cannot carry (control characters other than tab, CR and LF) are
  replaced by U+FFFD instead of failing the whole download.
* **Numbers**: ``int`` with the format ``#,##0``; finite ``Decimal`` (money) with ``#,##0.00########`` (at
  least two decimals, up to ten, nothing lost for nano amounts up to 16 significant digits, which is what a
  spreadsheet keeps). ``float`` and ``bool`` are refused with ``TypeError``, as in the CSV writer.
* **Dates** are date cells (``yyyy-mm-dd``). Datetimes are written in UTC without a zone
  (``yyyy-mm-dd hh:mm:ss``), because a spreadsheet cell has none: a header says "(UTC)" where it matters.
* ``None`` is an empty cell.

The workbook is write-only (rows are streamed into the file, not held as cell objects) and the file is
built in memory, then returned whole, for the reason ``apps.core.csv`` gives: the request's tenancy scope
closes when the view returns.
"""

import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from apps.core.csv import neutralise

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00########"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Sheet titles: at most 31 characters, none of these.
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")
# What XML 1.0 cannot carry (openpyxl refuses these with IllegalCharacterError).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

Cell = str | int | Decimal | datetime.date | datetime.datetime | None


def _cell(sheet, value, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, bool):
        raise TypeError("An XLSX cell cannot be a bool: write the flag as text (e.g. 'true'/'false').")
    if isinstance(value, float):
        raise TypeError("An XLSX cell cannot be a float: pass an exact Decimal or an int.")
    if value is None:
        cell = WriteOnlyCell(sheet, value=None)
    elif isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = INT_FORMAT
    elif isinstance(value, Decimal) and value.is_finite():
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DECIMAL_FORMAT
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    else:
        text = _ILLEGAL.sub("\ufffd", neutralise(str(value)))
        cell = WriteOnlyCell(sheet, value=None)
        # Set the text and then the type: assigning a str that starts with "=" would make a formula.
        cell._value = text
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def sheet_title(name: str) -> str:
    return (_SHEET_TITLE_FORBIDDEN.sub(" ", name).strip() or "Sheet")[:31]


def xlsx_bytes(*, header: Sequence[str], rows: Iterable[Iterable[Cell]], title: str = "Export") -> bytes:
    """A whole workbook of one sheet: the header row (bold, frozen) and the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title))
    sheet.freeze_panes = "A2"
    try:
        sheet.append([_cell(sheet, label, bold=True) for label in header])
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    except BaseException:
        sheet.close()  # a refused cell (a float, a bool): end the sheet's writer before the error goes up
        raise
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Iterable[Cell]], title: str = "Export"
) -> HttpResponse:
    """A download of ``xlsx_bytes`` as an attachment called ``filename``."""
    response = HttpResponse(xlsx_bytes(header=header, rows=rows, title=title), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
