"""The cost-centre list: a tree by default, sorted by a column on request, exported as shown."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.tenancy.roles import Role
from tests.tables import column, csv_rows, order_in, sorted_header, xlsx_rows

from .conftest import build_tree

pytestmark = pytest.mark.django_db

TREE_ORDER = ["CC-1000", "CC-1100", "CC-1101", "CC-1102", "CC-1200", "CC-1201", "CC-9000"]


@pytest.fixture
def tree(world):
    owners = build_tree(world, "a")
    build_tree(world, "b")
    with scope(organization=world.org("a")):
        for code, location in (("CC-1101", "Berlin"), ("CC-1201", "Austin"), ("CC-9000", "Cork")):
            owners[code].location = location
            owners[code].save()
        owners["CC-1102"].is_active = False
        owners["CC-1102"].save()
    return owners


def _get(world, query="", role=Role.ORG_ADMIN):
    return world.login("a", role).get(reverse("owners:list", kwargs={"org_slug": "alpha"}) + query)


def test_default_is_the_tree(world, tree):
    html = _get(world).content.decode()
    assert order_in(html, TREE_ORDER) == TREE_ORDER
    assert sorted_header(html) is None


def test_sort_by_code_descending_and_by_location(world, tree):
    html = _get(world, "?sort=-code").content.decode()
    assert order_in(html, TREE_ORDER) == TREE_ORDER[::-1]
    assert sorted_header(html) == ("Cost centre", "descending")
    rows = csv_rows(_get(world, "?sort=location&export=csv"))
    # Empty locations sort before any text; ties keep the tree order.
    assert column(rows, "Cost centre") == ["CC-1000", "CC-1100", "CC-1102", "CC-1200", "CC-1201", "CC-1101", "CC-9000"]
    rows = csv_rows(_get(world, "?sort=-location&export=csv"))
    assert column(rows, "Cost centre")[:3] == ["CC-9000", "CC-1101", "CC-1201"]
    rows = csv_rows(_get(world, "?sort=-status&export=csv"))
    assert column(rows, "Cost centre")[0] == "CC-1102"


def test_unknown_sort_falls_back_to_the_tree(world, tree):
    response = _get(world, "?sort=parent__code")
    assert response.status_code == 200
    assert order_in(response.content.decode(), TREE_ORDER) == TREE_ORDER


def test_export_is_the_tree_with_every_column(world, tree):
    rows = csv_rows(_get(world, "?export=csv"))
    assert rows[0] == [
        "Cost centre",
        "Name",
        "Level",
        "Central",
        "GL account",
        "Department",
        "Company",
        "Location",
        "Status",
    ]
    assert column(rows, "Cost centre") == TREE_ORDER
    assert column(rows, "Level") == ["0", "1", "2", "2", "1", "2", "0"]
    assert column(rows, "Status") == ["active"] * 3 + ["inactive"] + ["active"] * 3
    assert column(rows, "Central") == ["no"] * 6 + ["yes"]
    sheet = xlsx_rows(_get(world, "?export=xlsx"))
    assert sheet[0] == rows[0]
    assert column(sheet, "Cost centre") == TREE_ORDER
    assert column(sheet, "Level") == [0, 1, 2, 2, 1, 2, 0]  # numbers stay numbers


def test_a_budget_owner_exports_only_their_subtree(world, tree):
    rows = csv_rows(_get(world, "?sort=-code&export=csv", role=Role.BUDGET_OWNER))
    assert column(rows, "Cost centre") == ["CC-1102", "CC-1101", "CC-1100"]
