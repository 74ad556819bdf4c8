"""The runs of a period under the reconciliation overview: sorted by a column on request, exported as shown
(the period's runs only, amounts exact)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.reconciliation.models import ReconciliationRun
from tests.factories.reconciliation import ReconciliationRunFactory
from tests.tables import column, csv_rows, order_in, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("reconciliation:overview", kwargs={"org_slug": "alpha"})
OUTSIDE = ReconciliationRun.Status.OUTSIDE


@pytest.fixture
def runs(world) -> dict[str, list[ReconciliationRun]]:
    """Three October runs (made in this order) and one September run in each organisation."""
    made = {}
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            made[key] = [
                ReconciliationRunFactory(
                    organization=organization, estimated_nano=100_000_000_000, created_by_label=f"mia-{key}"
                ),
                ReconciliationRunFactory(
                    organization=organization,
                    estimated_nano=250_123_456_789,
                    invoiced_nano=240_000_000_000,
                    status=OUTSIDE,
                    tolerance_pct=Decimal("2.50"),
                    created_by_label=f"ann-{key}",
                ),
                ReconciliationRunFactory(
                    organization=organization,
                    estimated_nano=5_500_000_000,
                    invoiced_nano=5_000_000,
                    status=OUTSIDE,
                    created_by_label=f"zed-{key}",
                ),
                ReconciliationRunFactory(
                    organization=organization,
                    period=datetime.date(2026, 9, 1),
                    estimated_nano=7_000_000_000,
                    created_by_label=f"sep-{key}",
                ),
            ]
    return made


def _get(world, query, role="finance_analyst", url=OVERVIEW):
    return world.login("a", role).get(url + query)


def test_runs_sort_by_estimated_both_ways(world, runs):
    rows = csv_rows(_get(world, "?period=2026-10&sort=estimated&export=csv"))
    assert column(rows, "By") == ["zed-a", "mia-a", "ann-a"]
    assert column(rows, "Estimated") == ["5.50", "100.00", "250.123456789"]
    assert column(rows, "Invoiced") == ["0.005", "102.00", "240.00"]
    rows = csv_rows(_get(world, "?period=2026-10&sort=-estimated&export=csv"))
    assert column(rows, "By") == ["ann-a", "mia-a", "zed-a"]
    html = _get(world, "?period=2026-10&sort=-estimated").content.decode()
    assert sorted_header(html) == ("Estimated", "descending")
    history = html[html.index("<h2>Runs of 2026-10</h2>") :]  # the latest run's panel above names its author too
    assert order_in(history, ["mia-a", "zed-a", "ann-a"]) == ["ann-a", "mia-a", "zed-a"]
    # The sort links keep the period.
    assert 'href="?period=2026-10&amp;sort=by"' in html


def test_runs_unknown_sort_is_the_default_newest_first(world, runs):
    newest_first = ["zed-a", "ann-a", "mia-a"]
    for query in ("", "&sort=estimated_nano", "&sort=-month", "&sort=organization__slug"):
        rows = csv_rows(_get(world, f"?period=2026-10{query}&export=csv"))
        assert column(rows, "By") == newest_first, query
    assert sorted_header(_get(world, "?period=2026-10&sort=-currency").content.decode()) is None


def test_runs_export_the_period_shown_with_every_column(world, runs):
    first = runs["a"][0]
    sheet = xlsx_rows(_get(world, "?period=2026-10&sort=by&export=xlsx"))
    assert sheet[0] == [
        "Run",
        "Month",
        "When (UTC)",
        "By",
        "Status",
        "Estimated",
        "Invoiced",
        "Currency",
        "Tolerance %",
    ]
    assert column(sheet, "By") == ["ann-a", "mia-a", "zed-a"]
    assert column(sheet, "Run") == [runs["a"][1].pk, first.pk, runs["a"][2].pk]
    assert column(sheet, "Month") == ["2026-10"] * 3
    assert column(sheet, "Estimated") == [250.123456789, 100, 5.5]  # numbers in the workbook
    assert column(sheet, "Tolerance %") == [2.5, 5, 5]
    assert column(sheet, "Status") == ["Outside tolerance", "Within tolerance", "Outside tolerance"]
    assert column(sheet, "Currency") == ["USD"] * 3
    # September holds only its own run; a run's page exports the runs of its period.
    assert column(csv_rows(_get(world, "?period=2026-09&export=csv")), "By") == ["sep-a"]
    detail = reverse("reconciliation:run_detail", kwargs={"org_slug": "alpha", "pk": first.pk})
    rows = csv_rows(_get(world, "?sort=-invoiced&export=csv", url=detail))
    assert column(rows, "By") == ["ann-a", "mia-a", "zed-a"]


def test_runs_export_needs_the_pages_permission(world, runs):
    assert _get(world, "?period=2026-10&export=csv", role="budget_owner").status_code == 403
    assert column(csv_rows(_get(world, "?period=2026-10&export=csv", role="viewer")), "By") == [
        "zed-a",
        "ann-a",
        "mia-a",
    ]


def test_the_sorted_overview_keeps_its_queries_bounded(world, runs, django_assert_max_num_queries):
    client = world.login("a", "finance_analyst")
    with django_assert_max_num_queries(30):
        assert client.get(OVERVIEW + "?period=2026-10&sort=-estimated").status_code == 200
