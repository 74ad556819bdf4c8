"""The statement PDF: the figures of the statement page, from the portal (a budget owner only their own)
and from the API (``statements:read``)."""

import re
import zlib
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.statements.models import StatementLine
from apps.statements.pdf import latin, statement_pdf
from apps.tenancy.roles import TokenScope
from tests import scenarios
from tests.scenarios import closed, reissued
from tests.test_fx_full_cycle import CONVERSION_TEXT, euro_org  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

STREAM = re.compile(rb"<<(?P<dict>[^>]*)>>\s*stream\r?\n(?P<data>.*?)\r?\nendstream", re.S)
SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
ESCAPE = re.compile(rb"\\(.)", re.S)


def pdf_strings(data: bytes) -> list[str]:
    """The strings a PDF's pages show, in order: each content stream (inflated when compressed), each ``Tj``."""
    assert data.startswith(b"%PDF-")
    shown = []
    for stream in STREAM.finditer(data):
        content = stream["data"]
        if b"/FlateDecode" in stream["dict"]:
            content = zlib.decompress(content)
        shown += [ESCAPE.sub(rb"\1", text).decode("latin-1") for text in SHOWN.findall(content)]
    return shown


def url(name: str, statement, slug: str = "alpha") -> str:
    return reverse(f"statements:{name}", kwargs={"org_slug": slug, "pk": statement.pk})


@pytest.fixture
def issued(world) -> scenarios.Issued:
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def test_the_pdf_shows_the_header_every_line_and_the_totals_of_the_page(world, issued):
    statement = issued.statement("CC-1101")
    shown = pdf_strings(statement_pdf(statement=statement, compress=False))
    with scope(organization=world.org("a")):
        lines = list(StatementLine.objects.filter(statement=statement).order_by("position"))
    # The footed line amounts add up to the statement total, as on the page.
    assert sum((line.amount for line in lines), Decimal(0)) == statement.total_amount == Decimal("16.110")
    assert shown[:12] == [
        "Alpha Corp: AI charges statement",
        "2026-10-CC-1101-v1",
        "Cost centre",
        "CC-1101 Search",
        "Period",
        "2026-10",
        "Version",
        "1 (draft (in review))",
        "Issued",
        f"{statement.issued_at:%Y-%m-%d}",
        "Total",
        "16.11 USD",
    ]
    # Each section: its heading with the total, its lines' amounts, its total row.
    assert "Direct cost   15.01 USD" in shown and "Shared cost   0.33 USD" in shown
    assert "Invoice true-up   0.77 USD" in shown and "Adjustments   0.00 USD" in shown
    assert "Nothing in this section." in shown  # no adjustment
    amounts = [text for text in shown if re.fullmatch(r"-?\d[\d,]*\.\d\d", text)]
    assert amounts[:8] == ["10.01", "5.00", "15.01", "0.33", "0.33", "0.77", "0.77", "15.01"]
    for line in lines:
        assert str(line.position) in shown
        assert f"{line.amount:.2f}" in amounts
    total = shown.index("Total charged")
    assert shown[total - 8 : total + 2] == [
        "Direct cost",
        "15.01",
        "Shared cost",
        "0.33",
        "Invoice true-up",
        "0.77",
        "Adjustments",
        "0.00",
        "Total charged",
        "16.11 USD",
    ]
    assert "Everything on this statement was in USD: nothing was converted." in shown


def test_a_restated_pdf_shows_the_difference_and_the_older_one_says_it_is_superseded(world, issued):
    [v2] = [s for s in reissued(issued, extra_invoice_nano=1_000_000_000) if s.owner_code == "CC-1101"]
    v1 = issued.statement("CC-1101")
    old = pdf_strings(statement_pdf(statement=v1, compress=False))
    assert "1 (final), superseded by version 2" in old
    shown = pdf_strings(statement_pdf(statement=v2, compress=False))
    assert "Difference with version 1" in shown
    row = shown.index("Total", shown.index("Difference with version 1"))
    difference = v2.total_amount - v1.total_amount
    assert difference > 0
    assert shown[row : row + 4] == ["Total", "16.11", f"{v2.total_amount:.2f}", f"+{difference:.2f}"]


def test_the_pdf_of_a_converted_statement_carries_the_rates(world, euro_org):  # noqa: F811
    issued = scenarios.issued(euro_org)
    statement = issued.statement("CC-1101")
    shown = " ".join(pdf_strings(statement_pdf(statement=statement, compress=False)))
    assert latin(CONVERSION_TEXT) in shown
    assert "1.1298-1.1204 USD per EUR" in shown and "42.016 USD -> 37.341174779 EUR" in shown
    assert f"Total {statement.total_amount:.2f} EUR" in shown


def test_the_portal_downloads_the_pdf_a_budget_owner_only_their_own(world, issued, django_assert_max_num_queries):
    statement = issued.statement("CC-1101")
    finance = world.login("a", "finance_analyst")
    detail = finance.get(url("detail", statement)).content.decode()
    assert f'href="{url("pdf", statement)}"' in detail
    with django_assert_max_num_queries(20):
        response = finance.get(url("pdf", statement))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-alpha-2026-10-CC-1101-v1.pdf"'
    shown = pdf_strings(response.content)
    assert "16.11 USD" in shown and "Total charged" in shown

    owner = world.login("a", "budget_owner")
    assert owner.get(url("pdf", statement)).status_code == 200
    assert owner.get(url("pdf", issued.statement("CC-1201"))).status_code == 404
    # another organisation's member, and another organisation's statement under one's own slug
    assert world.login("b", "finance_admin").get(url("pdf", statement)).status_code == 404
    assert world.login("b", "finance_admin").get(url("pdf", statement, slug="beta")).status_code == 404


def test_the_api_answers_the_pdf_with_statements_read(world, issued):
    closed(issued)
    statement = issued.statement("CC-1201")
    path = f"/api/v1/statements/{statement.pk}/pdf/"
    api = world.api("a", scopes=[TokenScope.STATEMENTS_READ])
    response = api.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    shown = pdf_strings(response.content)
    assert "2026-10-CC-1201-v1" in shown and "1 (final)" in shown and "4.55 USD" in shown
    assert api.get(path, headers={"Accept": "application/pdf"}).status_code == 200

    refused = world.api("a", scopes=[TokenScope.PERIODS_READ]).get(path)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This token lacks the 'statements:read' scope."
    assert world.api("b", scopes=[TokenScope.STATEMENTS_READ]).get(path).status_code == 404


def test_the_schema_documents_the_pdf(client):
    document = client.get(reverse("api:schema"), {"format": "json"}).json()
    responses = document["paths"]["/api/v1/statements/{id}/pdf/"]["get"]["responses"]
    assert responses["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
