"""The statements list: sorted by a column on request, exported as shown (filters and visibility respected,
amounts exact)."""

import pytest
from django.urls import reverse

from tests import scenarios
from tests.tables import column, csv_rows, order_in, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db

LIST = reverse("statements:list", kwargs={"org_slug": "alpha"})


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October issued in orgs "a" and "b"; in "a" the budget-owner member owns CC-1101 (Search)."""
    scenarios.issued(world.org("b"), world.user("b", "finance_analyst"))
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def _get(world, query, role="finance_analyst"):
    return world.login("a", role).get(LIST + query)


# The drafts of October (see tests.scenarios.SHARED), in nano-units: direct + shared + true-up = total.
TOTALS = {"CC-1101": "16.107043317", "CC-1201": "4.550963347", "CC-1401": "0.349993336"}


def test_statements_sort_by_total_both_ways(world, issued):
    rows = csv_rows(_get(world, "?sort=total&export=csv"))
    assert column(rows, "Cost centre") == ["CC-1401", "CC-1201", "CC-1101"]
    assert column(rows, "Total") == ["0.349993336", "4.550963347", "16.107043317"]
    rows = csv_rows(_get(world, "?sort=-total&export=csv"))
    assert column(rows, "Cost centre") == ["CC-1101", "CC-1201", "CC-1401"]
    page = _get(world, "?sort=-total")
    html = page.content.decode()
    assert sorted_header(html) == ("Total", "descending")
    assert "Sorted by total (descending)" in html
    assert order_in(html, ["<code>CC-1401</code>", "<code>CC-1101</code>", "<code>CC-1201</code>"]) == [
        "<code>CC-1101</code>",
        "<code>CC-1201</code>",
        "<code>CC-1401</code>",
    ]


def test_statements_ties_keep_the_primary_key_order_and_unknown_keys_fall_back(world, issued):
    # Shared: CC-1201 and CC-1401 both took 0.333333333; the tie is broken by the primary key (issue order:
    # CC-1201 first) in the same direction.
    rows = csv_rows(_get(world, "?sort=-shared&export=csv"))
    assert column(rows, "Cost centre") == ["CC-1101", "CC-1401", "CC-1201"]
    assert column(rows, "Shared") == ["0.333333334", "0.333333333", "0.333333333"]
    rows = csv_rows(_get(world, "?sort=shared&export=csv"))
    assert column(rows, "Cost centre") == ["CC-1201", "CC-1401", "CC-1101"]
    # Not a column (or not sortable): the default order, newest month first, then by code.
    for query in ("?sort=total_amount", "?sort=-actions", "?sort=owner_name", "?sort="):
        rows = csv_rows(_get(world, query + "&export=csv"))
        assert column(rows, "Cost centre") == ["CC-1101", "CC-1201", "CC-1401"], query
    html = _get(world, "?sort=owner__code").content.decode()
    assert sorted_header(html) is None and "<h2>2026-10</h2>" in html


def test_statements_export_every_column_exactly_and_respects_the_filters(world, issued):
    rows = csv_rows(_get(world, "?sort=owner&export=csv"))
    assert rows[0] == [
        "Month",
        "Cost centre",
        "Cost centre name",
        "Version",
        "Superseded by version",
        "Status",
        "Direct",
        "Shared",
        "True-up",
        "Adjustments",
        "Total",
        "Currency",
        "Issued",
        "Reference",
    ]
    assert rows[1][:12] == [
        "2026-10",
        "CC-1101",
        "Search",
        "1",
        "",
        "Draft (in review)",
        "15.007",
        "0.333333334",
        "0.766709983",
        "0.00",
        "16.107043317",
        "USD",
    ]
    assert rows[1][13] == "2026-10-CC-1101-v1"
    assert dict(zip(column(rows, "Cost centre"), column(rows, "Total"), strict=True)) == TOTALS
    # The filters narrow the export as they narrow the page; the sort stays.
    sheet = xlsx_rows(_get(world, "?period=2026-10&owner=cc-1201&sort=-total&export=xlsx"))
    assert sheet[0] == rows[0]
    assert column(sheet, "Cost centre") == ["CC-1201"]
    assert column(sheet, "Total") == [4.550963347]  # a number in the workbook
    assert column(sheet, "Direct") == [4.001]
    assert column(sheet, "Version") == [1]
    assert csv_rows(_get(world, "?period=2026-09&export=csv")) == [rows[0]]
    assert len(xlsx_rows(_get(world, "?status=final&export=xlsx"))) == 1


def test_a_budget_owner_exports_only_their_subtree(world, issued):
    rows = csv_rows(_get(world, "?sort=-total&export=csv", role="budget_owner"))
    assert column(rows, "Cost centre") == ["CC-1101"]
    assert column(rows, "Total") == [TOTALS["CC-1101"]]
    sheet = xlsx_rows(_get(world, "?export=xlsx", role="budget_owner"))
    assert column(sheet, "Cost centre") == ["CC-1101"]


def test_the_superseded_version_is_exported(world, issued):
    scenarios.reissued(issued)
    rows = csv_rows(_get(world, "?owner=CC-1101&sort=version&export=csv"))
    assert column(rows, "Version") == ["1", "2"]
    assert column(rows, "Superseded by version") == ["2", ""]
    assert column(rows, "Status") == ["Final", "Draft (in review)"]


def test_the_sorted_page_keeps_its_queries_bounded(world, issued, django_assert_max_num_queries):
    client = world.login("a", "finance_analyst")
    with django_assert_max_num_queries(14):
        assert client.get(LIST + "?sort=-total&period=2026-10").status_code == 200
