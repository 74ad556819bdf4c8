"""The organisation's own exchange rates: sorted by a column on request, all of them exported."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.fx.models import OrgFxRate
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            for day, to_currency, rate_e10 in (
                (2, "USD", 10_850_000_000),
                (1, "GBP", 8_400_000_000),
                (3, "JPY", 1_620_000_000_000),
            ):
                OrgFxRate.objects.create(
                    organization=organization,
                    day=datetime.date(2026, 10, day),
                    from_currency="EUR",
                    to_currency=to_currency,
                    rate_e10=rate_e10,
                    source=f"treasury-{key}",
                )


def _get(world, query):
    return world.login("a", "finance_admin").get(reverse("fx:exchange_rates", kwargs={"org_slug": "alpha"}) + query)


def test_own_rates_sort_and_export(world, rates):
    rows = csv_rows(_get(world, "?sort=rate&export=csv"))
    assert rows[0] == ["Day", "From", "To", "Rate", "Source", "Loaded by", "Note"]
    assert column(rows, "To") == ["GBP", "USD", "JPY"]
    assert column(rows, "Rate") == ["0.84", "1.085", "162"]
    assert column(rows, "Source") == ["treasury-a"] * 3
    assert column(csv_rows(_get(world, "?sort=-rate&export=csv")), "To") == ["JPY", "USD", "GBP"]
    assert sorted_header(_get(world, "?sort=-rate").content.decode()) == ("Rate", "descending")
    sheet = xlsx_rows(_get(world, "?sort=to&export=xlsx"))
    assert column(sheet, "To") == ["GBP", "JPY", "USD"]
    assert column(sheet, "Day") == [datetime.datetime(2026, 10, d) for d in (1, 3, 2)]
    assert column(sheet, "Rate") == [0.84, 162, 1.085]
    # Unknown key: newest day first.
    assert column(csv_rows(_get(world, "?sort=rate_e10&export=csv")), "To") == ["JPY", "USD", "GBP"]
