"""Statement pages, the CSV, the printable view, the budget owner's home panel and the statements API."""

import csv
import io
from decimal import Decimal

import numpy
import pytest
from django.urls import reverse
from django_scopes import scope

from apps.tenancy.roles import TokenScope
from tests import scenarios
from tests.factories.owners import BudgetFactory
from tests.scenarios import closed, open_dispute, reissued

pytestmark = pytest.mark.django_db

LIST = reverse("statements:list", kwargs={"org_slug": "alpha"})


def url(name: str, statement) -> str:
    return reverse(f"statements:{name}", kwargs={"org_slug": "alpha", "pk": statement.pk})


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October issued in org "a"; the budget-owner member owns CC-1101 (Search)."""
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def test_finance_sees_every_statement_of_the_period(world, issued):
    page = world.login("a", "finance_analyst").get(LIST, {"period": "2026-10"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "2026-10: 3 current statements (3 in review), 21.01 USD charged in total." in html
    for code, total in (("CC-1101", "16.11"), ("CC-1201", "4.55"), ("CC-1401", "0.35")):
        assert f"<code>{code}</code>" in html
        assert f"<strong>{total}</strong> USD" in html


def test_filters_by_owner_and_status(world, issued):
    client = world.login("a", "finance_admin")
    html = client.get(LIST, {"owner": "cc-1201"}).content.decode()
    assert "<code>CC-1201</code>" in html and "<code>CC-1101</code>" not in html
    assert "No statement matches these filters." in client.get(LIST, {"status": "final"}).content.decode()
    html = client.get(LIST, {"period": "2026-13"}).content.decode()
    assert "Use YYYY-MM, e.g. 2026-10." in html


def test_a_budget_owner_sees_only_their_subtree(world, issued):
    client = world.login("a", "budget_owner")
    html = client.get(LIST).content.decode()
    assert "The statements of your cost centres, by period." in html
    assert "<code>CC-1101</code>" in html
    assert "CC-1201" not in html and "CC-1401" not in html
    assert client.get(url("detail", issued.statement("CC-1201"))).status_code == 404
    assert client.get(url("export", issued.statement("CC-1201"))).status_code == 404
    assert client.get(url("print", issued.statement("CC-1201"))).status_code == 404
    assert client.get(url("detail", issued.statement("CC-1101"))).status_code == 200


def test_a_budget_owner_without_cost_centres_sees_an_empty_list(world, issued):
    with scope(organization=issued.organization):
        issued.owners["CC-1101"].owner_users.clear()
    html = world.login("a", "budget_owner").get(LIST).content.decode()
    assert "No statement has been issued to your cost centres yet." in html


def test_the_empty_state_for_finance(world):
    html = world.login("a", "finance_admin").get(LIST).content.decode()
    assert "No statements have been issued yet: they are built from the allocation" in html


def test_the_list_is_paginated(world, issued, settings):
    from apps.statements import views

    views.PAGE_SIZE, previous = 2, views.PAGE_SIZE
    try:
        page = world.login("a", "finance_admin").get(LIST)
    finally:
        views.PAGE_SIZE = previous
    assert page.context["page"].paginator.num_pages == 2
    assert "Page 1 of 2 (3 rows)" in page.content.decode()


def test_the_statement_page_shows_sections_explanations_and_drill_down(world, issued):
    statement = issued.statement("CC-1101")
    page = world.login("a", "budget_owner").get(url("detail", statement))
    html = page.content.decode()
    assert "<code>2026-10-CC-1101-v1</code>" in html
    assert '<span class="badge">version 1</span>' in html
    assert "Draft (in review)" in html
    assert '<h2>Direct cost <small class="muted">15.01 USD</small></h2>' in html
    assert '<h2>Shared cost <small class="muted">0.33 USD</small></h2>' in html
    assert '<h2>Invoice true-up <small class="muted">0.77 USD</small></h2>' in html
    assert '<th>Total charged</th><th class="num">16.11 USD</th>' in html
    assert "33.33% of Gateway $1.00 (openai gpt-4o input), split evenly among 3 owners" in html
    assert "76.67% of the openai invoice true-up $1.00, by share of estimated openai cost" in html
    # drill-down to the usage behind each line: the tag map's team, the pool's feature, the true-up's provider
    assert (
        "/o/alpha/usage/?month=2026-10&amp;provider=openai&amp;model=gpt-4o&amp;cost_source=input"
        "&amp;tag_feature=chat&amp;tag_team=search&amp;group_by=day"
    ) in html
    assert '/o/alpha/usage/?month=2026-10&amp;provider=openai">usage</a>' in html
    # the pool's usage is not the owner's to explore; finance drills into it by the pool's feature
    assert "tag_feature=gateway-healthcheck" not in html and "shared pool</span>" in html
    finance_html = world.login("a", "finance_analyst").get(url("detail", statement)).content.decode()
    assert (
        "/o/alpha/usage/?month=2026-10&amp;provider=openai&amp;model=gpt-4o&amp;cost_source=input"
        '&amp;tag_feature=gateway-healthcheck"'
    ) in finance_html
    # the budget owner may dispute a line of a draft in review
    assert "Dispute the whole statement" in html
    assert f"/o/alpha/statements/{statement.pk}/dispute/?line=" in html


def test_finance_and_final_statements_have_no_dispute_button(world, issued):
    statement = issued.statement("CC-1101")
    assert b"Dispute the whole statement" not in world.login("a", "finance_admin").get(url("detail", statement)).content
    closed(issued)
    html = world.login("a", "budget_owner").get(url("detail", statement)).content.decode()
    assert "Final since" in html
    assert "Dispute the whole statement" not in html and "/dispute/?line=" not in html


def test_version_2_links_to_version_1_and_shows_the_difference(world, issued):
    reissued(issued, extra_invoice_nano=2_000_000_000)
    v1, v2 = issued.statement("CC-1101", 1), issued.statement("CC-1101", 2)
    client = world.login("a", "budget_owner")
    html = client.get(url("detail", v2)).content.decode()
    assert "<h2>Difference with version 1</h2>" in html
    assert (
        '<td>Invoice true-up</td><td class="num">0.77</td><td class="num">2.30</td><td class="num">+1.53</td>' in html
    )
    assert '<th>Total</th><th class="num">16.11</th><th class="num">17.64</th><th class="num">+1.53</th>' in html
    assert f'<a href="/o/alpha/statements/{v1.pk}/">2026-10-CC-1101-v1</a>' in html
    html = client.get(url("detail", v1)).content.decode()
    assert "Version 2 supersedes this statement" in html
    assert f'<a href="/o/alpha/statements/{v2.pk}/">see 2026-10-CC-1101-v2</a>' in html
    listing = client.get(LIST, {"status": "superseded"}).content.decode()
    assert "superseded by v2" in listing and listing.count("<code>CC-1101</code>") == 1


def test_the_csv_has_every_line_with_footed_and_exact_amounts(world, issued):
    statement = issued.statement("CC-1101")
    response = world.login("a", "budget_owner").get(url("export", statement))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statement-alpha-2026-10-CC-1101-v1.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "reference",
        "period",
        "version",
        "status",
        "cost_centre",
        "cost_centre_name",
        "section",
        "position",
        "feature",
        "provider",
        "model",
        "cost_source",
        "rule",
        "method",
        "share",
        "currency",
        "amount",
        "amount_exact",
        "explanation",
        "exchange_rates",
    ]
    assert [row[6:8] + row[13:18] for row in rows[1:]] == [
        ["direct", "1", "tag_map", "1.000000000000", "USD", "10.01", "10.004000000"],
        ["direct", "2", "tag_map", "1.000000000000", "USD", "5.00", "5.003000000"],
        ["shared", "3", "even", "0.333333333333", "USD", "0.33", "0.333333334"],
        ["true_up", "4", "true_up", "0.766709982707", "USD", "0.77", "0.766709983"],
    ]
    assert rows[1][:6] == ["2026-10-CC-1101-v1", "2026-10", "1", "draft", "CC-1101", "Search"]
    assert rows[3][18] == "33.33% of Gateway $1.00 (openai gpt-4o input), split evenly among 3 owners"
    assert {row[19] for row in rows[1:]} == {""}  # all in USD: nothing converted
    assert sum(Decimal(row[16]) for row in rows[1:]) == Decimal("16.11")


def test_the_printable_view_has_no_navigation(world, issued):
    statement = issued.statement("CC-1101")
    html = world.login("a", "finance_admin").get(url("print", statement)).content.decode()
    assert "Alpha Corp: AI charges statement" in html
    assert '<link rel="stylesheet" href="/static/portal/print.css">' in html  # its @media print rules
    assert 'class="mainnav"' not in html and "topbar" not in html
    assert "<th>Total charged</th>" in html
    assert "/o/alpha/usage/" not in html  # no drill-down or dispute links on paper


def test_viewers_read_statements_but_the_page_needs_a_membership(world, issued):
    statement = issued.statement("CC-1101")
    assert world.login("a", "viewer").get(url("detail", statement)).status_code == 200
    assert world.login("b", "finance_admin").get(url("detail", statement)).status_code == 404


# --- the budget owner's home ----------------------------------------------------------------------


def test_home_shows_the_owners_statement_budget_and_open_disputes(world, issued):
    with scope(organization=issued.organization):
        BudgetFactory(organization=issued.organization, owner=issued.owners["CC-1101"], amount=Decimal("20.00"))
    dispute = open_dispute(world, issued, amount="1.00")
    page = world.login("a", "budget_owner").get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    html = page.content.decode()
    assert "<h2>Your AI charges: 2026-10</h2>" in html
    assert '<td class="num">16.11</td>' in html and '<td class="num">20.00</td>' in html
    assert "<small>80.6%</small>" in html
    assert '<rect class="fill-good" width="80" height="1"/>' in html
    assert f"#{dispute.pk}</a> on 2026-10-CC-1101-v1: 1.00 USD" in html


def test_home_compares_a_budget_only_in_the_statements_currency(world, issued):
    # A budget written before budgets had to be in the base currency: named, never converted or compared.
    with scope(organization=issued.organization):
        BudgetFactory(
            organization=issued.organization, owner=issued.owners["CC-1101"], amount=Decimal("20.00"), currency="EUR"
        )
    page = world.login("a", "budget_owner").get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    html = page.content.decode()
    panel = page.context["owner_panel"]
    assert [(row.owner_code, row.comparable, row.used_pct, row.over) for row in panel.rows] == [
        ("CC-1101", False, None, False)
    ]
    assert (panel.budget, panel.used_pct) == (None, None)
    assert '<td class="num">16.11</td>' in html and '<td class="num">20.00 EUR</td>' in html
    assert "budget in EUR, charges in USD: not compared" in html
    assert "% of budget" not in html and "fill-good" not in html


def test_home_without_statements_says_so_and_finance_has_no_owner_panel(world):
    html = world.login("a", "budget_owner").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content
    assert b"No statement has been issued to your cost centres yet." in html
    assert b"No open disputes." in html
    html = world.login("a", "finance_admin").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content
    assert b"Your AI charges" not in html


def test_the_navigation_has_statements_and_disputes(world):
    owner_nav = [i["label"] for i in world.login("a", "budget_owner").get("/o/alpha/").context["nav_items"]]
    finance_nav = [i["label"] for i in world.login("a", "finance_analyst").get("/o/alpha/").context["nav_items"]]
    assert owner_nav == ["Home", "Showback", "Budgets", "Forecasts", "Alerts", "Statements", "Disputes", "Usage"]
    assert "Statements" in finance_nav and finance_nav.count("Disputes") == 1


# --- API ------------------------------------------------------------------------------------------


def test_the_api_lists_statements_with_decimal_strings(world, issued):
    api = world.api("a", scopes=[TokenScope.STATEMENTS_READ])
    response = api.get("/api/v1/statements/", {"period": "2026-10", "owner": "CC-1101"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    statement = issued.statement("CC-1101")
    assert row == {
        "id": statement.pk,
        "reference": "2026-10-CC-1101-v1",
        "period": "2026-10",
        "owner_code": "CC-1101",
        "owner_name": "Search",
        "version": 1,
        "status": "draft",
        "currency": "USD",
        "sections": {"direct": "15.01", "shared": "0.33", "true_up": "0.77", "adjustment": "0.00"},
        "total": "16.11",
        "line_count": 4,
        "supersedes": None,
        "superseded_by": None,
        "issued_at": row["issued_at"],
        "finalised_at": None,
        # 5 business days (the default window) after the day it was issued, counted by numpy's business-day
        # calendar (Monday to Friday; a weekend issue day rolls back to the Friday before, which is not counted).
        "disputes_until": f"{numpy.busday_offset(row['issued_at'][:10], 5, roll='backward') + 1}T00:00:00Z",
        "withdrawn_at": None,
        "withdrawn_reason": "",
        "updated_at": row["updated_at"],
        "erp": {"gl_account": "", "department": "", "company_code": "", "class": "", "location": ""},
        "conversion": None,
    }
    assert row["updated_at"] >= row["issued_at"]
    assert api.get("/api/v1/statements/", {"status": "final"}).json()["results"] == []


def test_the_erp_pulls_final_statements_with_lines(world, issued):
    closed(issued)
    api = world.api("a", scopes=[TokenScope.STATEMENTS_READ])
    listing = api.get("/api/v1/statements/", {"status": "final", "current": "true"}).json()["results"]
    assert [row["reference"] for row in listing] == [
        "2026-10-CC-1101-v1",
        "2026-10-CC-1201-v1",
        "2026-10-CC-1401-v1",
    ]
    detail = api.get(f"/api/v1/statements/{listing[0]['id']}/").json()
    assert detail["status"] == "final" and detail["finalised_at"] is not None
    assert [(line["section"], line["amount"], line["amount_exact"]) for line in detail["lines"]] == [
        ("direct", "10.01", "10.004000000"),
        ("direct", "5.00", "5.003000000"),
        ("shared", "0.33", "0.333333334"),
        ("true_up", "0.77", "0.766709983"),
    ]
    assert detail["lines"][2]["explanation"] == (
        "33.33% of Gateway $1.00 (openai gpt-4o input), split evenly among 3 owners"
    )
    assert detail["lines"][2]["share"] == "0.333333333333"


def test_the_statements_api_needs_its_scope(world, issued):
    api = world.api("a", scopes=[TokenScope.PERIODS_READ])
    response = api.get("/api/v1/statements/")
    assert response.status_code == 403
    assert response.json()["detail"] == "This token lacks the 'statements:read' scope."


def test_the_schema_stays_free_of_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
