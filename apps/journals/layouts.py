"""A period's journal entries as a file a general ledger imports: three CSV layouts, one row per journal line.

Every layout is written by the product's one CSV writer (``apps.core.csv``): amounts go in as Decimals
(bare numbers, footed to the currency's minor unit), every text cell (accounts, cost centres, memos) is
neutralised against spreadsheet formulas. An entry whose debits and credits differ is refused, whatever
the layout: no ledger posts it, and the product never writes one.

``netsuite``: the NetSuite CSV Import Assistant's journal entry import (Setup > Import/Export > Import
    CSV Records, record type Journal Entry). Columns from NetSuite's help pages "Journal Entry and
    Intercompany Journal Entry Header Fields Table" (External ID, Date, Subsidiary, Currency, Memo) and
    "Journal Entry and Intercompany Journal Entry Line-Level Fields Table" (Account, Debit, Credit, Memo,
    Department, Class, Location; the line's memo is headed "Line Memo" here so the two memos can be told
    apart when mapping). The line-level page: each imported entry needs at least two lines and balancing
    debits and credits; Debit and Credit take at most 10 digits before the decimal point and 2 after. As
    NetSuite's single-file transaction imports go ("Custom Transaction CSV File Examples"), each line is its
    own row and the rows that share an External ID form one entry; a line fills Debit or Credit and leaves
    the other cell empty. External ID is the entry's stable ``external_id``, so importing the file twice
    updates rather than duplicates. Subsidiary is the entry's company code; Date the posting date (ISO 8601:
    choose that date format when mapping).

``sap``: one row per G/L line item of ``BAPI_ACC_DOCUMENT_POST`` (SAP's accounting-document BAPI, the
    interface a G/L upload program fills), headed with the BAPI's own field names: document header
    ``DOCUMENTHEADER`` (structure BAPIACHE09) COMP_CODE, PSTNG_DATE, REF_DOC_NO, HEADER_TXT; G/L item
    ``ACCOUNTGL`` (BAPIACGL09) ITEMNO_ACC, GL_ACCOUNT, COSTCENTER, ITEM_TEXT; currency item
    ``CURRENCYAMOUNT`` (BAPIACCR09) CURRENCY, AMT_DOCCUR. Field lengths from SAP's data dictionary:
    REF_DOC_NO is data element XBLNR (BKPF-XBLNR, reference document number, CHAR 16), HEADER_TXT is BKTXT
    (document header text, CHAR 25), ITEM_TEXT is SGTXT (CHAR 50), PSTNG_DATE is BUDAT (DATS, written
    YYYYMMDD). AMT_DOCCUR is signed: a debit positive, a credit negative (the BAPI derives the debit/credit
    indicator SHKZG from the sign: S above zero, H below, as SAP's blog "Posting Key (BSCHL) and debit/credit
    indicator (SHKZG) determination logic for IDOC type ACC_DOCUMENT03" shows), so a document's rows sum to
    zero.
    One document per entry, keyed by REF_DOC_NO (the entry's ``document_ref``): a reference longer than 16
    characters is refused (cutting it could make two documents one), a header text longer than 25 and an
    item text longer than 50 are cut (they only describe).

``generic``: the journal entry fields of the API (``/api/v1/journal-entries/``: everything but the FX block
    and the timestamps) repeated on each of its lines, for ledgers with their own import mapping and people.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.core.csv import Cell, csv_text
from apps.core.money import quantize_money

from .models import JournalEntry, JournalLine

# SAP data-dictionary lengths (see the module docstring).
SAP_REFERENCE_MAX = 16  # XBLNR
SAP_HEADER_TEXT_MAX = 25  # BKTXT
SAP_ITEM_TEXT_MAX = 50  # SGTXT
# NetSuite: "a maximum of 10 digits before the decimal and 2 digits after the decimal".
NETSUITE_INTEGER_DIGITS = 10


class LayoutError(ValueError):
    """The entries cannot be written in this layout; the message says which entry and why."""


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    header: tuple[str, ...]
    rows: Callable[[Sequence[JournalEntry]], Iterator[list[Cell]]]


def _lines(entry: JournalEntry) -> list[JournalLine]:
    """The entry's lines in order (prefetched by the caller: ``prefetch_related("lines")``)."""
    return sorted(entry.lines.all(), key=lambda line: line.position)


def _amount(value: Decimal, entry: JournalEntry) -> Decimal:
    return quantize_money(Decimal(value), entry.currency)


def _balanced_lines(entry: JournalEntry) -> list[JournalLine]:
    """The entry's lines, once its footed debits are known to equal its footed credits."""
    lines = _lines(entry)
    debits = sum((_amount(line.debit, entry) for line in lines), Decimal(0))
    credits = sum((_amount(line.credit, entry) for line in lines), Decimal(0))
    if len(lines) < 2 or debits != credits:
        raise LayoutError(
            f"Entry {entry.external_id} is not balanced ({len(lines)} lines, debits {debits}, credits {credits}):"
            " it cannot be exported."
        )
    return lines


def _side(value: Decimal, entry: JournalEntry) -> Decimal | None:
    """A Debit or Credit cell: the amount, or empty for the other side of the line."""
    amount = _amount(value, entry)
    return amount if amount else None


# --- NetSuite -------------------------------------------------------------------------------------------

NETSUITE_HEADER = (
    "External ID",
    "Date",
    "Subsidiary",
    "Currency",
    "Memo",
    "Account",
    "Debit",
    "Credit",
    "Line Memo",
    "Department",
    "Class",
    "Location",
)


def _netsuite_amount(value: Decimal, entry: JournalEntry) -> Decimal | None:
    amount = _side(value, entry)
    if amount is not None and abs(amount) >= Decimal(10) ** NETSUITE_INTEGER_DIGITS:
        raise LayoutError(
            f"Entry {entry.external_id}: {amount} has more than {NETSUITE_INTEGER_DIGITS} digits before the "
            "decimal point, more than NetSuite's Debit and Credit columns take."
        )
    return amount


def netsuite_rows(entries: Sequence[JournalEntry]) -> Iterator[list[Cell]]:
    for entry in entries:
        for line in _balanced_lines(entry):
            yield [
                entry.external_id,
                entry.posting_date.isoformat(),
                entry.company_code,
                entry.currency,
                entry.memo,
                line.account,
                _netsuite_amount(line.debit, entry),
                _netsuite_amount(line.credit, entry),
                line.memo,
                line.department,
                line.erp_class,
                line.location,
            ]


# --- SAP ------------------------------------------------------------------------------------------------

SAP_HEADER = (
    "COMP_CODE",
    "PSTNG_DATE",
    "REF_DOC_NO",
    "HEADER_TXT",
    "ITEMNO_ACC",
    "GL_ACCOUNT",
    "COSTCENTER",
    "ITEM_TEXT",
    "CURRENCY",
    "AMT_DOCCUR",
)


def sap_reference(entry: JournalEntry) -> str:
    reference = entry.document_ref
    if not reference or len(reference) > SAP_REFERENCE_MAX:
        raise LayoutError(
            f"Entry {entry.external_id}: its document reference {reference!r} must be 1 to {SAP_REFERENCE_MAX} "
            "characters (SAP REF_DOC_NO)."
        )
    return reference


def sap_date(day: datetime.date) -> str:
    return f"{day:%Y%m%d}"


def sap_rows(entries: Sequence[JournalEntry]) -> Iterator[list[Cell]]:
    for entry in entries:
        reference = sap_reference(entry)
        header_text = entry.header_text[:SAP_HEADER_TEXT_MAX]
        for item, line in enumerate(_balanced_lines(entry), start=1):
            yield [
                line.company_code or entry.company_code,
                sap_date(entry.posting_date),
                reference,
                header_text,
                item,
                line.account,
                line.cost_centre,
                line.memo[:SAP_ITEM_TEXT_MAX],
                entry.currency,
                _amount(line.debit, entry) - _amount(line.credit, entry),
            ]


# --- generic --------------------------------------------------------------------------------------------

GENERIC_HEADER = (
    "external_id",
    "period",
    "version",
    "kind",
    "reverses",
    "statement",
    "posting_date",
    "currency",
    "company_code",
    "cost_centre",
    "document_ref",
    "header_text",
    "memo",
    "total",
    "posting_status",
    "erp_reference",
    "line",
    "account",
    "debit",
    "credit",
    "line_cost_centre",
    "department",
    "class",
    "location",
    "line_company_code",
    "line_memo",
)


def _reverses(entry: JournalEntry) -> str | None:
    reversed_entry = entry.reverses
    return reversed_entry.external_id if reversed_entry is not None else None


def generic_rows(entries: Sequence[JournalEntry]) -> Iterator[list[Cell]]:
    for entry in entries:
        for line in _balanced_lines(entry):
            yield [
                entry.external_id,
                f"{entry.period:%Y-%m}",
                entry.version,
                entry.kind,
                _reverses(entry),
                entry.statement_id,
                entry.posting_date.isoformat(),
                entry.currency,
                entry.company_code,
                entry.owner_code,
                entry.document_ref,
                entry.header_text,
                entry.memo,
                _amount(entry.total_amount, entry),
                entry.posting_status,
                entry.erp_reference,
                line.position,
                line.account,
                _amount(line.debit, entry),
                _amount(line.credit, entry),
                line.cost_centre,
                line.department,
                line.erp_class,
                line.location,
                line.company_code,
                line.memo,
            ]


LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        Layout("netsuite", "NetSuite", NETSUITE_HEADER, netsuite_rows),
        Layout("sap", "SAP", SAP_HEADER, sap_rows),
        Layout("generic", "Generic CSV", GENERIC_HEADER, generic_rows),
    )
}
LAYOUT_CHOICES = tuple(LAYOUTS)


def get_layout(key: str) -> Layout:
    try:
        return LAYOUTS[key]
    except KeyError:
        raise LayoutError(f"Unknown layout {key!r}: choose one of {', '.join(LAYOUT_CHOICES)}.") from None


def layout_rows(key: str, entries: Iterable[JournalEntry]) -> list[list[Cell]]:
    """Every row of ``entries`` in the layout (header not included); LayoutError before any row is returned."""
    return list(get_layout(key).rows(list(entries)))


def layout_text(key: str, entries: Iterable[JournalEntry]) -> str:
    """The whole file: the layout's header, then a row per journal line."""
    return csv_text(layout_rows(key, entries), header=get_layout(key).header)


def layout_filename(*, organization_slug: str, period: datetime.date, layout: str) -> str:
    return f"journal-{organization_slug}-{period:%Y-%m}-{layout}.csv"
