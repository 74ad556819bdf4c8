"""The allocation rule sets list: sorted by name or description on request, exported as shown."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.allocation.rules.services import rule_set_create
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule_sets(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            for name, description in (("main", "z everything"), ("beta", "a trial"), ("carve", "m split")):
                rule_set_create(organization=organization, actor=None, name=f"{name}-{key}", description=description)


def _get(world, query):
    return world.login("a", "finance_analyst").get(reverse("rules:list", kwargs={"org_slug": "alpha"}) + query)


def test_rule_sets_sort_and_export(world, rule_sets):
    # Default: the primary (the first made) first, then by name.
    rows = csv_rows(_get(world, "?export=csv"))
    assert rows[0] == [
        "Rule set",
        "Primary",
        "Latest published version",
        "Published",
        "Published by",
        "Draft",
        "Description",
    ]
    assert column(rows, "Rule set") == ["main-a", "beta-a", "carve-a"]
    assert column(rows, "Primary") == ["primary", "", ""]
    assert column(rows, "Draft") == ["v1 draft: no rules yet"] * 3
    assert column(csv_rows(_get(world, "?sort=-name&export=csv")), "Rule set") == ["main-a", "carve-a", "beta-a"]
    sheet = xlsx_rows(_get(world, "?sort=description&export=xlsx"))
    assert column(sheet, "Rule set") == ["beta-a", "carve-a", "main-a"]
    assert column(sheet, "Latest published version") == [None, None, None]
    html = _get(world, "?sort=description").content.decode()
    assert sorted_header(html) == ("Description", "ascending")
    # The draft column is read a page at a time: not sortable, the default order stays.
    assert column(csv_rows(_get(world, "?sort=draft&export=csv")), "Rule set") == ["main-a", "beta-a", "carve-a"]
