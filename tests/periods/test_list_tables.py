"""The periods board: sorted by period on request (its only sortable column), exported as shown."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from tests.factories.periods import BillingPeriodFactory
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db

MONTHS = [datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)]


@pytest.fixture
def periods(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            for month in MONTHS if key == "a" else [datetime.date(2025, 1, 1)]:
                BillingPeriodFactory(organization=organization, period=month)


def _get(world, query):
    return world.login("a", "viewer").get(reverse("periods:board", kwargs={"org_slug": "alpha"}) + query)


def test_board_sorts_by_period_and_exports_every_month(world, periods):
    rows = csv_rows(_get(world, "?export=csv"))
    assert rows[0][:4] == ["Period", "Version", "State", "Estimated (USD)"]
    assert column(rows, "Period") == ["2026-10", "2026-09", "2026-08"]
    assert column(rows, "State") == ["Open"] * 3
    assert column(csv_rows(_get(world, "?sort=period&export=csv")), "Period") == ["2026-08", "2026-09", "2026-10"]
    html = _get(world, "?sort=-period").content.decode()
    assert sorted_header(html) == ("Period", "descending")
    assert "sorts by period only" in html
    # Not sortable: the default order, newest first.
    assert column(csv_rows(_get(world, "?sort=state&export=csv")), "Period") == ["2026-10", "2026-09", "2026-08"]
    sheet = xlsx_rows(_get(world, "?sort=period&export=xlsx"))
    assert column(sheet, "Period") == ["2026-08", "2026-09", "2026-10"]
    assert column(sheet, "Version") == [1, 1, 1]
