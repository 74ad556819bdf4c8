"""A statement as a PDF, for owners and auditors: the figures of the statement page, on paper.

Built with fpdf2 (pure Python, no system libraries) in its core Helvetica font. The PDF shows what the
page shows, from the same reads (``selectors.statement_sections``, ``statement_difference``,
``statement_conversion``) and the same formatting (the ``money`` template filters): the header (cost centre,
period, version and status, issue and final dates, total), the difference with the version it supersedes,
every section with every line (position, feature, provider, model, cost source, why, footed amount) and its
total, the totals by section, and the exchange-rate text. Amounts are the footed Decimals, which add up to
each section and the sections to the total exactly, as on the page; nothing goes through a float.

The core fonts hold Latin-1 only: a few typographic characters are written as their plain equivalents
(``→`` as ``->``, the minus sign as ``-``) and any other character outside Latin-1 as ``?``; the amounts
and references are ASCII and always print as they are.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from apps.core.templatetags.money import money, share_pct, signed_money
from apps.tenancy.scoping import tenant_scoped

from . import selectors
from .models import Section, Statement

PLAIN = str.maketrans(
    {
        "→": "->",
        "–": "-",
        "—": "-",
        "−": "-",
        "…": "...",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "\u00a0": " ",
    }
)
LINE_COLUMNS = ("#", "Feature", "Provider", "Model", "Cost source", "Why you pay it", "Amount")
LINE_WIDTHS = (8, 28, 20, 28, 20, 54, 22)  # millimetres: 180 across an A4 page with 15 mm margins
ROUNDING_NOTE = (
    "Line amounts are rounded to the cent so that they add up to each section and the sections to the total "
    "exactly; the CSV also has every line's exact amount."
)


def latin(text) -> str:
    """``text`` in what a core font can print (Latin-1)."""
    return str(text).translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


class _StatementPdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, latin(self.footer_text), align="L")
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def _line_why(line) -> str:
    """The page's "Why you pay it" cell: the explanation, then the rule and method (and share) in brackets."""
    why = line.explanation
    if line.rule_name:
        detail = line.rule_name
        if line.method and line.section != Section.ADJUSTMENT:
            detail += f", {line.method}"
            if line.section in (Section.SHARED, Section.TRUE_UP):
                detail += f" {share_pct(line.share)}"
        why += f" ({detail})"
    return why


def statement_pdf_bytes(
    *,
    statement: Statement,
    organization_name: str,
    sections: list,
    difference: list,
    conversion,
    superseded_by: Statement | None,
    compress: bool = True,
) -> bytes:
    """The PDF of one statement from what ``selectors`` read for its page (every line listed: no grouping of
    small lines, as the printable view). ``compress=False`` leaves the page streams readable (tests)."""
    currency = statement.currency
    pdf = _StatementPdf(f"{organization_name} · statement {statement.reference} · {currency}")
    pdf.set_compression(compress)
    pdf.set_title(latin(f"Statement {statement.reference}"))
    pdf.set_author(latin(organization_name))
    pdf.set_creator("AI chargeback portal")
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=15)
    pdf.multi_cell(0, 8, latin(f"{organization_name}: AI charges statement"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, latin(statement.reference), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    status = f"{statement.version} ({statement.get_status_display().lower()})"
    if superseded_by is not None:
        status += f", superseded by version {superseded_by.version}"
    issued = f"{statement.issued_at:%Y-%m-%d}"
    if statement.finalised_at:
        issued += f"; final {statement.finalised_at:%Y-%m-%d}"
    header = [
        ("Cost centre", f"{statement.owner_code} {statement.owner_name}"),
        ("Period", statement.period_label),
        ("Version", status),
        ("Issued", issued),
        ("Total", f"{money(statement.total_amount, currency)} {currency}"),
    ]
    with pdf.table(col_widths=(35, 145), first_row_as_headings=False, borders_layout="NONE", text_align="LEFT") as t:
        for label, value in header:
            row = t.row()
            row.cell(latin(label))
            row.cell(latin(value))
    pdf.ln(3)

    if difference:
        _heading(pdf, f"Difference with version {statement.supersedes.version}")
        pdf.set_font("Helvetica", size=9)
        with pdf.table(col_widths=(60, 40, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")) as t:
            t.row(("", f"Version {statement.supersedes.version}", f"Version {statement.version}", "Difference"))
            for row in difference:
                t.row(
                    (
                        row.label,
                        money(row.previous, currency),
                        money(row.current, currency),
                        latin(signed_money(row.difference, currency)),
                    )
                )
        pdf.ln(3)

    for section in sections:
        _heading(pdf, f"{section.label}   {money(section.amount, currency)} {currency}")
        pdf.set_font("Helvetica", size=8)
        if not section.lines:
            pdf.cell(0, 6, "Nothing in this section.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
            continue
        with pdf.table(
            col_widths=LINE_WIDTHS, text_align=("LEFT",) * 6 + ("RIGHT",), repeat_headings=1, line_height=4
        ) as t:
            t.row(LINE_COLUMNS)
            for line in section.lines:
                t.row(
                    (
                        str(line.position),
                        latin(line.feature or "-"),
                        latin(line.provider or "-"),
                        latin(line.model or "-"),
                        latin(line.cost_source or "-"),
                        latin(_line_why(line)),
                        money(line.amount, currency),
                    )
                )
            total = t.row()
            total.cell(latin(f"{section.label} total"), colspan=6, style=_bold())
            total.cell(money(section.amount, currency), style=_bold())
        pdf.ln(3)

    _heading(pdf, "Total")
    pdf.set_font("Helvetica", size=9)
    with pdf.table(col_widths=(120, 60), first_row_as_headings=False, text_align=("LEFT", "RIGHT")) as t:
        for section in sections:
            t.row((section.label, money(section.amount, currency)))
        total = t.row()
        total.cell("Total charged", style=_bold())
        total.cell(f"{money(statement.total_amount, currency)} {currency}", style=_bold())
    pdf.set_font("Helvetica", size=7)
    pdf.multi_cell(0, 4, ROUNDING_NOTE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    _heading(pdf, "Exchange rates")
    pdf.set_font("Helvetica", size=8)
    if conversion:
        for converted in conversion.currencies:
            text = f"Converted from {converted.from_currency} at {conversion.source_text} ({converted.text})."
            pdf.multi_cell(0, 4, latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(
            0,
            4,
            "Each amount was converted once, at its own rate, and rounded once to the nano-unit; the rates are "
            f"kept with allocation run #{statement.allocation_run_id} and never change once a statement is issued.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    else:
        pdf.multi_cell(
            0, 4, f"Everything on this statement was in {currency}: nothing was converted.", new_x=XPos.LMARGIN
        )
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.multi_cell(0, 7, latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _bold() -> FontFace:
    return FontFace(emphasis="BOLD")


@tenant_scoped(via="statement")
def statement_pdf(*, statement: Statement, compress: bool = True) -> bytes:
    """The statement's PDF, read like its page: the caller has checked the member (or token) may see it."""
    try:
        superseded_by = statement.superseded_by
    except Statement.DoesNotExist:
        superseded_by = None
    return statement_pdf_bytes(
        statement=statement,
        organization_name=statement.organization.name,
        sections=selectors.statement_sections(statement=statement),
        difference=selectors.statement_difference(statement=statement),
        conversion=selectors.statement_conversion(statement=statement),
        superseded_by=superseded_by,
        compress=compress,
    )
