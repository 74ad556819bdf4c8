"""The navigation by role: every role's groups and entries, listed in full, and every entry opens."""

import pytest
from django.urls import reverse

from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db

CLOSE_ALL = ["Periods", "Reconciliation", "Allocation", "Allocation rules", "Statements", "Disputes"]
CATALOG_ALL = ["Cost centres", "Tagging", "Prices", "Exchange rates", "Recovery accounts"]

EXPECTED = {
    Role.ORG_ADMIN: [
        ("Spend", ["Home", "Showback", "Budgets", "Forecasts", "Alerts"]),
        ("Close", CLOSE_ALL),
        ("Catalog", CATALOG_ALL),
        ("Data", ["Usage", "Invoices", "Connectors"]),
        ("Admin", ["Members", "API clients", "Webhooks", "History", "Settings"]),
    ],
    Role.FINANCE_ADMIN: [
        ("Spend", ["Home", "Showback", "Budgets", "Forecasts", "Alerts"]),
        ("Close", [*CLOSE_ALL, "Jobs"]),
        ("Catalog", CATALOG_ALL),
        ("Data", ["Usage", "Usage imports", "Invoices", "Connectors"]),
        ("Admin", ["Members", "History"]),
    ],
    Role.FINANCE_ANALYST: [
        ("Spend", ["Home", "Showback", "Budgets", "Forecasts", "Alerts"]),
        ("Close", [*CLOSE_ALL, "Jobs"]),
        ("Catalog", CATALOG_ALL),
        ("Data", ["Usage", "Usage imports", "Invoices", "Connectors"]),
        ("Admin", ["Members"]),
    ],
    # What a budget owner acts on: their spend, statements and disputes. No members, tagging, price book
    # (negotiated prices), allocation or rules.
    Role.BUDGET_OWNER: [
        ("Spend", ["Home", "Showback", "Budgets", "Forecasts", "Alerts"]),
        ("Close", ["Statements", "Disputes"]),
        ("Data", ["Usage"]),
    ],
    # A viewer reads everything that shows cost, and changes nothing.
    Role.VIEWER: [
        ("Spend", ["Home", "Showback", "Budgets", "Forecasts", "Alerts"]),
        ("Close", CLOSE_ALL),
        ("Catalog", CATALOG_ALL),
        ("Data", ["Usage", "Invoices"]),
        ("Admin", ["Members"]),
    ],
}


def groups_of(response) -> list[tuple[str, list[str]]]:
    return [(group["label"], [item["label"] for item in group["items"]]) for group in response.context["nav_groups"]]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_groups_and_entries(world, role):
    response = world.login("a", role).get("/o/alpha/")
    assert groups_of(response) == EXPECTED[role]
    flat = [label for _group, labels in EXPECTED[role] for label in labels]
    assert [item["label"] for item in response.context["nav_items"]] == flat


@pytest.mark.parametrize("role", list(Role))
def test_every_entry_a_role_sees_opens(world, role):
    client = world.login("a", role)
    for group in client.get("/o/alpha/").context["nav_groups"]:
        for item in group["items"]:
            assert client.get(item["url"]).status_code == 200, (role, item["label"])


def test_the_page_marks_its_entry_and_lists_its_group_below_the_bar(world):
    client = world.login("a", Role.FINANCE_ANALYST)
    html = client.get("/o/alpha/statements/").content.decode()
    assert '<details class="navgroup is-current">\n        <summary>Close</summary>' in html
    assert '<nav class="subnav" aria-label="Close">' in html
    assert '<a href="/o/alpha/statements/" aria-current="page">Statements</a>' in html
    # A page that is no entry itself (a usage import's page, a statement) keeps its app's group current.
    html = client.get("/o/alpha/usage/mappings/").content.decode()
    assert '<nav class="subnav" aria-label="Data">' in html


def test_no_navigation_outside_an_organisation(world):
    response = world.login("a").get(reverse("accounts:password_change"))
    assert response.status_code == 200
    assert response.context["nav_groups"] == []
    assert b'class="navgroup' not in response.content


def test_a_periods_journal_sits_under_close_though_its_app_files_recovery_accounts_under_catalog(world):
    from apps.portal.navigation import nav_groups_for

    client = world.login("a", Role.FINANCE_ANALYST)
    request = client.get("/o/alpha/periods/2026-10/journal/").wsgi_request
    assert [g["label"] for g in nav_groups_for(request) if g["active"]] == ["Close"]
    request = client.get("/o/alpha/settings/recovery-accounts/").wsgi_request
    assert [g["label"] for g in nav_groups_for(request) if g["active"]] == ["Catalog"]
