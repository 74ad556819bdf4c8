"""Reading a list page's sorted rows and its exports back, for the per-list sort and export tests."""

import csv
import io
import re

from openpyxl import load_workbook

from apps.core.csv import restore
from apps.core.xlsx import CONTENT_TYPE as XLSX_CONTENT_TYPE


def csv_rows(response) -> list[list[str]]:
    """Header and rows of a CSV download, each text cell as it went in (the formula guard taken off)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    return [[restore(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]


def xlsx_rows(response) -> list[list]:
    """Header and rows of an XLSX download, cell values as openpyxl reads them (text restored like CSV)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [
        [restore(value) if isinstance(value, str) else value for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]


def column(rows: list[list], label: str) -> list:
    """One column of an export (header row first) by its header label."""
    index = rows[0].index(label)
    return [row[index] for row in rows[1:]]


def sorted_header(html: str) -> tuple[str, str] | None:
    """The (label, aria-sort) of the header the page says it is sorted by, or None."""
    match = re.search(r'<th scope="col" aria-sort="(ascending|descending)"[^>]*><a[^>]*>([^<]+)', html)
    return (match.group(2).strip(), match.group(1)) if match else None


def order_in(html: str, texts: list[str]) -> list[str]:
    """``texts`` in the order they first appear in the page (each must appear)."""
    positions = {text: html.index(text) for text in texts}
    return sorted(texts, key=positions.__getitem__)
