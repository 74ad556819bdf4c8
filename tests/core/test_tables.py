"""apps/core/tables.py: the sort is chosen from the table's own columns only, and links keep the query."""

import pytest
from django.test import RequestFactory

from apps.core.tables import Column, Table

TABLE = Table(
    "things",
    (
        Column("name", "Name", value="name", order="name"),
        Column("size", "Size", value="size", order="size"),
        Column("note", "Note", value="note"),
        Column("extra", "Extra", value="note", in_page=False),
    ),
)
ROWS = [
    {"name": "b", "size": 2, "note": "x"},
    {"name": "a", "size": None, "note": "y"},
    {"name": "c", "size": 1, "note": "z"},
]


def _bind(query):
    return TABLE.bind(RequestFactory().get("/list/" + query))


@pytest.mark.parametrize(
    "query", ["", "?sort=", "?sort=note", "?sort=-note", "?sort=password", "?sort=--name", "?sort=extra"]
)
def test_anything_but_a_sortable_column_keeps_the_default_order(query):
    table = _bind(query)
    assert table.sort_column is None
    assert table.sort(ROWS) is ROWS


def test_python_rows_sort_both_ways_with_empty_values_last():
    assert [r["name"] for r in _bind("?sort=size").sort(ROWS)] == ["c", "b", "a"]
    assert [r["name"] for r in _bind("?sort=-size").sort(ROWS)] == ["b", "c", "a"]


def test_headers_toggle_keep_filters_and_drop_the_page():
    table = _bind("?sort=name&team=search&page=3&export=csv")
    name, size, note = table.headers  # the export-only column has no header
    assert (name.aria_sort, name.url) == ("ascending", "?team=search&sort=-name")
    assert (size.aria_sort, size.url) == ("", "?team=search&sort=size")
    assert not note.sortable and note.url == ""
    assert table.query == "sort=name&team=search"
    assert table.export_links == [
        ("CSV", "?sort=name&team=search&export=csv"),
        ("XLSX", "?sort=name&team=search&export=xlsx"),
    ]
    assert _bind("?sort=-name").headers[0].url == "?sort=name"


def test_export_is_capped_and_says_so():
    small = Table("things", TABLE.columns, cap=2)
    table = small.bind(RequestFactory().get("/list/?export=csv"))
    header, cells = table.export_rows(ROWS)
    assert header == ["Name", "Size", "Note", "Extra"]
    assert len(cells) == 3 and cells[-1][0].startswith("Only the first 2 rows")
    assert table.export(ROWS)["X-Export-Capped"] == "2"


def test_export_only_on_get():
    request = RequestFactory().post("/list/?export=csv")
    assert TABLE.bind(request).export(ROWS) is None
