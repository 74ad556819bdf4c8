"""The three journal layouts over a booked October: each file's header, and its rows with the real amounts of
the final statements (CC-1101 16.11 = 15.01 direct + 0.33 shared + 0.77 true-up; CC-1201 4.55 = 4.00 + 0.33
+ 0.22; CC-1401 0.35 = 0.33 + 0.02; USD), then CC-1101's charge reversed in full."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.journals.exports import journal_entries_for_export, journal_export
from apps.journals.layouts import (
    GENERIC_HEADER,
    NETSUITE_HEADER,
    SAP_HEADER,
    LayoutError,
    layout_rows,
    layout_text,
)
from apps.statements.models import Statement
from tests import scenarios
from tests.journals.export_world import booked_october, records_of, rows_of

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def org(world):
    booked_october(world.org("a"))
    return world.org("a")


def _text(org, layout: str) -> str:
    return journal_export(organization=org, period=scenarios.OCT, layout=layout).text


def _amount(cell: str) -> Decimal:
    return D(cell) if cell else D(0)


def test_netsuite_rows_sharing_an_external_id_form_one_balanced_entry(org):
    text = _text(org, "netsuite")
    rows = rows_of(text)
    assert tuple(rows[0]) == NETSUITE_HEADER == (
        "External ID", "Date", "Subsidiary", "Currency", "Memo", "Account", "Debit", "Credit", "Line Memo",
        "Department", "Class", "Location",
    )  # fmt: skip
    records = records_of(text)
    entries = defaultdict(list)
    for record in records:
        entries[record["External ID"]].append(record)
    assert list(entries) == [
        "alpha-2026-10-CC-1101-v1",
        "alpha-2026-10-CC-1201-v1",
        "alpha-2026-10-CC-1401-v1",
        "alpha-2026-10-CC-1101-v1-rev",
    ]
    for lines in entries.values():
        assert len(lines) >= 2
        assert sum(_amount(r["Debit"]) for r in lines) == sum(_amount(r["Credit"]) for r in lines)
        assert all(bool(r["Debit"]) != bool(r["Credit"]) for r in lines)  # one side per line, the other empty
    search = entries["alpha-2026-10-CC-1101-v1"]
    assert [(r["Account"], r["Debit"], r["Credit"], r["Line Memo"]) for r in search] == [
        ("6100", "15.01", "", "direct CC-1101"),
        ("6100", "0.33", "", "shared CC-1101"),
        ("6100", "0.77", "", "true-up CC-1101"),
        ("7990", "", "16.11", "Recovered from CC-1101"),
    ]
    first = search[0]
    assert (first["Date"], first["Subsidiary"], first["Currency"], first["Memo"]) == (
        "2026-10-31",
        "US01",
        "USD",
        "AI chargeback 2026-10 CC-1101 Search",
    )
    assert (first["Department"], first["Class"], first["Location"]) == ("Search", "AI", "NYC")
    # The reversal swaps every side.
    assert [(r["Account"], r["Debit"], r["Credit"]) for r in entries["alpha-2026-10-CC-1101-v1-rev"]] == [
        ("6100", "", "15.01"),
        ("6100", "", "0.33"),
        ("6100", "", "0.77"),
        ("7990", "16.11", ""),
    ]
    # The charges' debits are the final statements' totals, summed directly.
    with scope(organization=org):
        finals = Statement.objects.filter(period=scenarios.OCT, status="final")
        statement_total = sum(s.total_amount for s in finals)
    charges = [r for r in records if not r["External ID"].endswith("-rev")]
    assert sum(_amount(r["Debit"]) for r in charges) == statement_total == D("21.01")


def test_sap_documents_sum_to_zero_with_signed_amounts(org):
    text = _text(org, "sap")
    rows = rows_of(text)
    assert tuple(rows[0]) == SAP_HEADER == (
        "COMP_CODE", "PSTNG_DATE", "REF_DOC_NO", "HEADER_TXT", "ITEMNO_ACC", "GL_ACCOUNT", "COSTCENTER",
        "ITEM_TEXT", "CURRENCY", "AMT_DOCCUR",
    )  # fmt: skip
    records = records_of(text)
    documents = defaultdict(list)
    for record in records:
        documents[record["REF_DOC_NO"]].append(record)
    with scope(organization=org):
        refs = [e.document_ref for e in journal_entries_for_export(organization=org, period=scenarios.OCT)]
    assert list(documents) == refs
    for lines in documents.values():
        assert sum(D(r["AMT_DOCCUR"]) for r in lines) == 0
        assert [r["ITEMNO_ACC"] for r in lines] == [str(n) for n in range(1, len(lines) + 1)]
        assert all(len(r["REF_DOC_NO"]) <= 16 and len(r["HEADER_TXT"]) <= 25 for r in lines)
    search, ads, finance, reversal = documents.values()
    assert [(r["GL_ACCOUNT"], r["COSTCENTER"], r["AMT_DOCCUR"]) for r in search] == [
        ("6100", "CC-1101", "15.01"),
        ("6100", "CC-1101", "0.33"),
        ("6100", "CC-1101", "0.77"),
        ("7990", "CC-1101", "-16.11"),
    ]
    assert [r["AMT_DOCCUR"] for r in ads] == ["4.00", "0.33", "0.22", "-4.55"]
    assert [r["AMT_DOCCUR"] for r in finance] == ["0.33", "0.02", "-0.35"]
    assert [r["AMT_DOCCUR"] for r in reversal] == ["-15.01", "-0.33", "-0.77", "16.11"]
    first = search[0]
    assert (first["COMP_CODE"], first["PSTNG_DATE"], first["HEADER_TXT"], first["CURRENCY"]) == (
        "US01",
        "20261031",
        "AI chargeback 2026-10 v1",
        "USD",
    )


def _entries(org):
    with scope(organization=org):
        return journal_entries_for_export(organization=org, period=scenarios.OCT)


def test_sap_refuses_a_reference_over_16_characters_and_cuts_the_header_text_to_25(org):
    entries = _entries(org)
    entries[1].header_text = "AI chargeback 2026-10 v1 restated"  # 33 characters
    rows = layout_rows("sap", entries)
    assert {row[3] for row in rows if row[2] == entries[1].document_ref} == {"AI chargeback 2026-10 v1 "}
    assert len("AI chargeback 2026-10 v1 ") == 25
    entries[1].document_ref = "CB-2026-10-CC-1201"  # 18 characters
    with pytest.raises(LayoutError, match=r"alpha-2026-10-CC-1201-v1: its document reference .* 1 to 16"):
        layout_rows("sap", entries)


def test_an_unbalanced_entry_is_refused_by_every_layout(org):
    entries = _entries(org)
    with scope(organization=org):
        first_line = entries[0].lines.all()[0]
    first_line.debit = D("15.02")  # one cent more than the credit
    for layout in ("netsuite", "sap", "generic"):
        with pytest.raises(LayoutError, match="alpha-2026-10-CC-1101-v1 is not balanced"):
            layout_rows(layout, entries)


def test_netsuite_refuses_more_than_ten_digits_before_the_decimal_point(org):
    entries = _entries(org)
    with scope(organization=org):
        lines = list(entries[2].lines.all())
    lines[0].debit, lines[1].debit, lines[2].credit = D("10000000000.00"), D(0), D("10000000000.00")
    with pytest.raises(LayoutError, match="more than 10 digits"):
        layout_rows("netsuite", entries)
    assert layout_rows("sap", entries)  # SAP's amount field is wider


def test_generic_carries_the_api_fields_on_every_line(org):
    text = _text(org, "generic")
    rows = rows_of(text)
    assert tuple(rows[0]) == GENERIC_HEADER
    records = records_of(text)
    assert len(records) == 4 + 4 + 3 + 4
    reversal = [r for r in records if r["kind"] == "reversal"]
    assert {r["reverses"] for r in reversal} == {"alpha-2026-10-CC-1101-v1"}
    assert {r["reverses"] for r in records if r["kind"] == "charge"} == {""}
    assert [(r["line"], r["account"], r["debit"], r["credit"]) for r in reversal] == [
        ("1", "6100", "0.00", "15.01"),
        ("2", "6100", "0.00", "0.33"),
        ("3", "6100", "0.00", "0.77"),
        ("4", "7990", "16.11", "0.00"),
    ]
    first = records[0]
    assert (first["period"], first["version"], first["posting_date"], first["total"], first["posting_status"]) == (
        "2026-10",
        "1",
        "2026-10-31",
        "16.11",
        "pending",
    )


def test_text_cells_cannot_run_as_formulas(org):
    entries = _entries(org)
    with scope(organization=org):
        entries[0].lines.all()[0].memo = '=HYPERLINK("http://x")'
    text = layout_text("netsuite", entries)
    assert '"\'=HYPERLINK(""http://x"")"' in text  # quoted, with the formula guard in front
    assert rows_of(text)[1][8] == '=HYPERLINK("http://x")'  # and reads back as it was


def test_an_unknown_layout_is_refused(org):
    with pytest.raises(LayoutError, match="Unknown layout 'xml': choose one of netsuite, sap, generic"):
        journal_export(organization=org, period=scenarios.OCT, layout="xml")
