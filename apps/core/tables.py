"""Lists people can work with: sort by a column, export what the list shows.

A list page declares its ``Table`` once (its columns: a key, the label of the header, how to read the
value a person sees, and how to order by it) and binds it to the request in the view::

    MEMBERS = Table("members", (Column("user", "User", value=..., order="user__username"), ...))

    table = MEMBERS.bind(request)
    rows = table.sort(membership_list(organization=request.organization))   # same queryset the page shows
    if response := table.export(rows):
        return response                                                     # ?export=csv | ?export=xlsx
    ... Paginator(rows, 50) ..., {"table": table, "query": table.query}

**Sorting.** ``?sort=<key>`` sorts ascending, ``?sort=-<key>`` descending, by a column the table declares
sortable; anything else (an unknown key, a column that is not sortable, an empty value) is ignored and the
list keeps its default order. Never an error, and never an ``order_by`` of a name the user typed: the key
only selects one of the table's own expressions. Ties are broken by the primary key (same direction), so
pages never skip or repeat a row; empty values sort last in both directions, on SQLite and PostgreSQL alike.
Rows already computed in Python (a tree, a breakdown) sort with a Python key instead (``order`` is a
callable); the sort is stable, so rows that tie keep their default order.

**Headers.** ``table.headers`` gives each column its label, and for a sortable one a link that sorts by it
(ascending first, then toggling) and keeps every other query parameter except the page (a new order starts
at page 1); the sorted column carries ``aria-sort``. ``templates/core/_sort_headers.html`` renders the
``<th>`` cells, ``templates/core/_export_links.html`` the download links.

**Exports.** ``table.export(rows)`` answers ``?export=csv`` or ``?export=xlsx`` with exactly the list's
rows (its filters and its order, every page, not just the one shown) and its columns, through the one CSV
writer (``apps.core.csv``) or the XLSX writer (``apps.core.xlsx``), which never let a text cell be a formula.
An export holds at most ``EXPORT_CAP`` rows: when the list has more, the file ends with a row saying so, and
the rest needs narrower filters. The export runs inside the view, so the same permissions and tenancy apply.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import BaseExpression
from django.http import HttpResponse

from apps.core.csv import csv_response
from apps.core.money import exact_text, money_text, nano_to_decimal, quantize_money
from apps.core.xlsx import xlsx_response

EXPORT_CAP = 50_000
SORT_PARAM = "sort"
EXPORT_PARAM = "export"
PAGE_PARAMS = ("page", "cursor")
FORMATS = ("csv", "xlsx")


def capped_notice(cap: int = EXPORT_CAP) -> str:
    return f"Only the first {cap:,} rows are exported: narrow the filters to export the rest."


def exact_decimal(value, places: int = 2) -> Decimal | None:
    """A stored Decimal as the list shows it (``exact_amount``): exactly, trailing zeros beyond ``places`` off."""
    return None if value is None else Decimal(exact_text(value, places))


def nano_money(nano: int | None, currency: str = "USD") -> Decimal | None:
    """Nano-units as the list shows them (``money``): rounded half-even to the currency's minor unit."""
    return None if nano is None else quantize_money(nano_to_decimal(int(nano)), currency or "USD")


def nano_exact(nano: int | None, currency: str = "USD") -> Decimal | None:
    """Nano-units as the list shows them exactly (``exact_money``): at least the currency's minor unit."""
    return None if nano is None else Decimal(money_text(int(nano), currency or "USD"))


def read_path(row: Any, path: str) -> Any:
    """``"a.b.c"`` read from an object (attributes) or a mapping (keys), ``None`` as soon as a step is None.
    A callable at the end (e.g. ``get_role_display``) is called."""
    value = row
    for step in path.split("."):
        if value is None:
            return None
        value = value[step] if isinstance(value, dict) else getattr(value, step)
    return value() if callable(value) else value


@dataclass(frozen=True)
class Column:
    """One column of a list.

    ``value``: what the export writes (an attribute/key path, or a callable of the row); ``None`` leaves the
    column out of the export (an action column). ``order``: an ORM field name or expression for querysets,
    or a callable key for rows computed in Python; ``None`` makes the header plain text (not sortable).
    ``in_page=False``: a column of the export only, where the page shows two values in one cell (a code and
    its name) and the file gives each its own column."""

    key: str
    label: str
    value: str | Callable[[Any], Any] | None = None
    order: str | BaseExpression | Callable[[Any], Any] | None = None
    in_page: bool = True
    css: str = ""  # the header's class, e.g. "num" over a column of figures
    help: str = ""  # the header's title (what the column counts, where the label is short)

    @property
    def sortable(self) -> bool:
        return self.order is not None

    @property
    def exported(self) -> bool:
        return self.value is not None

    def read(self, row: Any) -> Any:
        if callable(self.value):
            return self.value(row)
        return read_path(row, self.value)


@dataclass(frozen=True)
class Header:
    key: str
    label: str
    sortable: bool
    css: str = ""
    help: str = ""
    url: str = ""
    aria_sort: str = ""  # "ascending" / "descending" on the sorted column
    next_direction: str = ""  # what following the link does, for screen readers


@dataclass(frozen=True)
class Table:
    """A list's columns. ``name`` names the export files; ``note`` is said under the header where sorting is
    limited (e.g. a keyset-paged list sorts only by its key columns)."""

    name: str
    columns: Sequence[Column]
    note: str = ""
    cap: int = EXPORT_CAP

    def __post_init__(self):
        keys = [column.key for column in self.columns]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{self.name}: column keys repeat")

    def column(self, key: str) -> Column | None:
        return next((column for column in self.columns if column.key == key), None)

    def bind(self, request) -> "BoundTable":
        raw = (request.GET.get(SORT_PARAM) or "").strip()
        descending = raw.startswith("-")
        column = self.column(raw.removeprefix("-"))
        if column is None or not column.sortable:
            column, descending = None, False
        return BoundTable(table=self, request=request, sort_column=column, descending=descending)


@dataclass
class BoundTable:
    table: Table
    request: Any
    sort_column: Column | None
    descending: bool = False
    capped: bool = field(default=False)

    # Sorting

    @property
    def sort_value(self) -> str:
        if self.sort_column is None:
            return ""
        return ("-" if self.descending else "") + self.sort_column.key

    def sort(self, rows):
        """The rows in the chosen order (a QuerySet stays a QuerySet); unchanged without a valid choice."""
        column = self.sort_column
        if column is None:
            return rows
        if isinstance(rows, QuerySet):
            expression = F(column.order) if isinstance(column.order, str) else column.order
            direction = "desc" if self.descending else "asc"
            return rows.order_by(getattr(expression, direction)(nulls_last=True), getattr(F("pk"), direction)())
        key = column.order if callable(column.order) else (lambda row, path=column.order: read_path(row, path))
        rows = list(rows)
        present = [row for row in rows if key(row) is not None]
        missing = [row for row in rows if key(row) is None]
        return sorted(present, key=key, reverse=self.descending) + missing

    # Links

    def _params(self, **changes) -> str:
        params = self.request.GET.copy()
        for name in (*PAGE_PARAMS, EXPORT_PARAM):
            params.pop(name, None)
        for name, value in changes.items():
            params.pop(name, None)
            if value:
                params[name] = value
        return params.urlencode()

    @property
    def filter_data(self):
        """The request's query without sort, export and page, or None when nothing else is left: what a
        list's filter form is bound to, so that ``?sort=..`` or ``?export=csv`` alone does not bind it (an
        unbound form applies the list's defaults, e.g. the open disputes)."""
        params = self.request.GET.copy()
        for name in (*PAGE_PARAMS, EXPORT_PARAM, SORT_PARAM):
            params.pop(name, None)
        return params or None

    @property
    def query(self) -> str:
        """The list's query string without page and export: what pagination links carry."""
        return self._params()

    @property
    def headers(self) -> list[Header]:
        headers = []
        for column in self.table.columns:
            if not column.in_page:
                continue
            if not column.sortable:
                headers.append(Header(column.key, column.label, False, column.css, column.help))
                continue
            current = self.sort_column is not None and self.sort_column.key == column.key
            descending_next = current and not self.descending
            headers.append(
                Header(
                    key=column.key,
                    label=column.label,
                    sortable=True,
                    css=column.css,
                    help=column.help,
                    url="?" + self._params(**{SORT_PARAM: ("-" if descending_next else "") + column.key}),
                    aria_sort=("descending" if self.descending else "ascending") if current else "",
                    next_direction="descending" if descending_next else "ascending",
                )
            )
        return headers

    @property
    def export_links(self) -> list[tuple[str, str]]:
        return [(fmt.upper(), "?" + self._params(**{EXPORT_PARAM: fmt})) for fmt in FORMATS]

    @property
    def note(self) -> str:
        return self.table.note

    @property
    def cap_text(self) -> str:
        return f"{self.table.cap:,}"

    # Export

    def export_rows(self, rows) -> tuple[list[str], list[list[Any]]]:
        """The header and the cells of at most ``cap`` rows, a notice row last when there were more."""
        columns = [column for column in self.table.columns if column.exported]
        limited = list(rows[: self.table.cap + 1])
        self.capped = len(limited) > self.table.cap
        cells = [[column.read(row) for column in columns] for row in limited[: self.table.cap]]
        if self.capped:
            cells.append([capped_notice(self.table.cap)] + [None] * (len(columns) - 1))
        return [column.label for column in columns], cells

    @property
    def wants_export(self) -> bool:
        return self.request.method == "GET" and self.request.GET.get(EXPORT_PARAM) in FORMATS

    def export(self, rows) -> HttpResponse | None:
        """The download asked for with ``?export=csv|xlsx``, or ``None`` to render the page."""
        if not self.wants_export:
            return None
        fmt = self.request.GET[EXPORT_PARAM]
        header, cells = self.export_rows(rows)
        organization = getattr(self.request, "organization", None)
        stem = f"{organization.slug}-{self.table.name}" if organization is not None else self.table.name
        if fmt == "csv":
            response = csv_response(filename=f"{stem}.csv", header=header, rows=cells)
        else:
            response = xlsx_response(filename=f"{stem}.xlsx", header=header, rows=cells, title=self.table.name)
        if self.capped:
            response["X-Export-Capped"] = str(self.table.cap)
        return response
