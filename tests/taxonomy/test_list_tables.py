"""Tag dimensions and their values: sorted by a column on request, exported as shown (search respected)."""

import pytest
from django.urls import reverse
from django_scopes import scope

from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagAliasFactory, TagDimensionFactory, TagValueFactory
from tests.tables import column, csv_rows, order_in, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(world):
    made = {}
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            team = TagDimensionFactory(organization=organization, key="team", position=1)
            feature = TagDimensionFactory(organization=organization, key="feature", position=2, required=True)
            TagDimensionFactory(organization=organization, key="customer", position=3)
            owner = BudgetOwnerFactory(organization=organization, code=f"CC-{key}")
            for value in ("search", "ads", "maps"):
                TagValueFactory(dimension=team, value=f"{value}-{key}", owner=owner if value == "maps" else None)
            search = team.values.get(value=f"search-{key}")
            TagAliasFactory(value=search, alias=f"srch-{key}")
            TagAliasFactory(value=search, alias=f"sea-{key}")
            TagValueFactory(dimension=feature, value=f"chat-{key}")
            made[key] = team
    return made


def _list(world, query=""):
    return world.login("a").get(reverse("taxonomy:dimensions", kwargs={"org_slug": "alpha"}) + query)


def test_dimensions_sort_both_ways_and_fall_back(world, catalog):
    html = _list(world).content.decode()
    assert order_in(html, ["<code>team", "<code>feature", "<code>customer"]) == [
        "<code>team",
        "<code>feature",
        "<code>customer",
    ]
    assert column(csv_rows(_list(world, "?sort=key&export=csv")), "Key") == ["customer", "feature", "team"]
    assert column(csv_rows(_list(world, "?sort=-key&export=csv")), "Key") == ["team", "feature", "customer"]
    rows = csv_rows(_list(world, "?sort=-values&export=csv"))
    assert column(rows, "Key") == ["team", "feature", "customer"]
    assert column(rows, "Values") == ["3", "1", "0"]
    assert column(rows, "Aliases") == ["2", "0", "0"]
    assert sorted_header(_list(world, "?sort=-values").content.decode()) == ("Values", "descending")
    assert column(csv_rows(_list(world, "?sort=value_count__gt&export=csv")), "Key") == ["team", "feature", "customer"]


def test_dimensions_export_xlsx(world, catalog):
    rows = xlsx_rows(_list(world, "?sort=-required&export=xlsx"))
    assert rows[0] == ["Key", "Label", "Required", "Case", "Values", "Inactive values", "Aliases", "Status"]
    assert column(rows, "Key") == ["feature", "customer", "team"]  # required first, ties by pk, also descending
    assert column(rows, "Values") == [1, 0, 3]


def test_values_sort_export_and_search(world, catalog):
    url = reverse("taxonomy:dimension_detail", kwargs={"org_slug": "alpha", "pk": catalog["a"].pk})
    admin = world.login("a")
    html = admin.get(url + "?sort=-value").content.decode()
    assert order_in(html, ["search-a", "maps-a", "ads-a"]) == ["search-a", "maps-a", "ads-a"]
    rows = csv_rows(admin.get(url + "?sort=value&export=csv"))
    assert rows[0] == ["Value", "Description", "Other spellings", "Cost centre", "Cost centre name", "Status"]
    assert column(rows, "Value") == ["ads-a", "maps-a", "search-a"]
    assert column(rows, "Other spellings") == ["", "", "sea-a, srch-a"]
    assert column(rows, "Cost centre") == ["", "CC-a", ""]
    # The search narrows the export too.
    rows = xlsx_rows(admin.get(url + "?q=ma&export=xlsx"))
    assert column(rows, "Value") == ["maps-a"]
    assert column(rows, "Cost centre") == ["CC-a"]
