"""Members and API clients: sorted by a column on request, exported as shown (CSV and XLSX)."""

import datetime
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.accounts.services import api_client_create, api_client_revoke
from tests.tables import column, csv_rows, order_in, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db

USERNAMES = ["alpha-budget_owner", "alpha-finance_admin", "alpha-finance_analyst", "alpha-org_admin", "alpha-viewer"]


def _members(world, query: str = ""):
    return world.login("a").get(reverse("accounts:members", kwargs={"org_slug": "alpha"}) + query)


def test_members_sort_by_user_both_ways(world):
    html = _members(world, "?sort=-user").content.decode()
    assert order_in(html, USERNAMES) == USERNAMES[::-1]
    assert sorted_header(html) == ("User", "descending")
    html = _members(world, "?sort=user").content.decode()
    assert order_in(html, USERNAMES) == USERNAMES
    assert sorted_header(html) == ("User", "ascending")
    # The header link of the sorted column turns the order around; the others sort ascending.
    assert 'href="?sort=-user"' in html
    assert 'href="?sort=role"' in html


def test_members_sort_by_role(world):
    rows = csv_rows(_members(world, "?sort=role&export=csv"))
    # Roles sort by their stored value: budget_owner, finance_admin, finance_analyst, org_admin, viewer.
    assert column(rows, "Role") == [
        "Budget owner",
        "Finance admin (approver)",
        "Finance analyst (preparer)",
        "Org admin",
        "Viewer",
    ]


@pytest.mark.parametrize("sort", ["password", "-user__password", "user__username", "", "--user", "-"])
def test_members_unknown_sort_keeps_the_default_order(world, sort):
    response = _members(world, f"?sort={sort}")
    assert response.status_code == 200
    html = response.content.decode()
    assert order_in(html, USERNAMES) == USERNAMES  # membership_list orders by username
    assert sorted_header(html) is None


def test_members_export_csv_and_xlsx_have_the_rows_and_columns_shown(world):
    csv_table = csv_rows(_members(world, "?sort=-user&export=csv"))
    assert csv_table[0] == ["User", "E-mail", "Role", "Since"]
    assert column(csv_table, "User") == [f"Test {name.title()} ({name})" for name in USERNAMES[::-1]]
    assert column(csv_table, "E-mail") == [f"{name}@example.com" for name in USERNAMES[::-1]]
    today = timezone.localdate()
    assert column(csv_table, "Since") == [str(today)] * 5
    xlsx_table = xlsx_rows(_members(world, "?sort=-user&export=xlsx"))
    assert xlsx_table[0] == csv_table[0]
    assert column(xlsx_table, "User") == column(csv_table, "User")
    # A date is a date cell, not text.
    assert column(xlsx_table, "Since") == [datetime.datetime.combine(today, datetime.time())] * 5


def _client(world, name, days, revoke=False):
    organization = world.org("a")
    with scope(organization=organization):
        client, _ = api_client_create(
            organization=organization,
            actor=world.user("a"),
            name=name,
            scopes=["org:read"],
            expires_at=timezone.now() + timedelta(days=days),
        )
        if revoke:
            api_client_revoke(client=client, actor=world.user("a"))
    return client


def test_api_clients_sort_and_export(world):
    _client(world, "bravo", 10)
    _client(world, "alpha", 30, revoke=True)
    _client(world, "charlie", 20)
    with scope(organization=world.org("b")):
        api_client_create(
            organization=world.org("b"),
            actor=world.user("b"),
            name="other-org",
            scopes=["org:read"],
            expires_at=timezone.now() + timedelta(days=5),
        )
    url = reverse("accounts:api_clients", kwargs={"org_slug": "alpha"})
    admin = world.login("a")
    assert order_in(admin.get(url + "?sort=name").content.decode(), ["alpha", "bravo", "charlie"]) == [
        "alpha",
        "bravo",
        "charlie",
    ]
    rows = csv_rows(admin.get(url + "?sort=-expires&export=csv"))
    assert rows[0] == ["Name", "Key", "Role", "Scopes", "Status", "Expires (UTC)", "Last used (UTC)", "Created by"]
    assert column(rows, "Role") == ["Viewer", "Viewer", "Viewer"]
    assert column(rows, "Name") == ["alpha", "charlie", "bravo"]
    rows = xlsx_rows(admin.get(url + "?sort=status&export=xlsx"))
    assert column(rows, "Status") == ["active", "active", "revoked"]
    assert "other-org" not in column(rows, "Name")
    # Unknown key: the default order (newest first).
    assert column(csv_rows(admin.get(url + "?sort=token_hash&export=csv")), "Name") == ["charlie", "alpha", "bravo"]
