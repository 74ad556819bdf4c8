import pytest
from django_scopes import scope

from apps.taxonomy.normalise import tagset_hash
from apps.taxonomy.selectors import dimensions_with_counts, tagging_health, undefined_tag_keys
from apps.taxonomy.services import tagsets_get_or_create

pytestmark = pytest.mark.django_db

TAG_SETS = [
    {"team": "search", "environment": "production", "customer": "c1"},
    {"team": "serch", "environment": "production"},
    {"team": "serch"},
    {"environment": "qa", "cost_center": "x"},
]


@pytest.fixture
def tagsets(world, taxonomy) -> dict[str, int]:
    tagsets_get_or_create(organization=world.org("b"), tag_dicts=[{"team": "nobody"}])  # never counted in "a"
    return tagsets_get_or_create(organization=world.org("a"), tag_dicts=TAG_SETS)


def _id(tagsets, index: int) -> int:
    return tagsets[tagset_hash(TAG_SETS[index])]


def test_health_counts_tag_sets(world, tagsets):
    with scope(organization=world.org("a")):
        rows = tagging_health(organization=world.org("a"))
    assert [(r.key, r.required, r.counted, r.missing, r.unknown_values, r.has_value_list) for r in rows] == [
        ("team", True, 4, 1, [("serch", 2)], True),
        ("environment", True, 4, 1, [("qa", 1)], True),
        ("customer", False, 4, 3, [], False),
    ]
    assert (rows[0].missing_pct, rows[0].unknown_pct) == ("25.0", "50.0")


def test_health_weights_by_request_counts(world, tagsets):
    counts = {_id(tagsets, 0): 900, _id(tagsets, 1): 60, _id(tagsets, 2): 40}  # the fourth saw no requests
    with scope(organization=world.org("a")):
        rows = {r.key: r for r in tagging_health(organization=world.org("a"), request_counts=counts)}
    assert (rows["team"].counted, rows["team"].missing, rows["team"].unknown_values) == (1000, 0, [("serch", 100)])
    assert (rows["environment"].missing, rows["environment"].unknown_values) == (40, [])
    assert rows["customer"].missing == 100
    assert (rows["team"].unknown_pct, rows["environment"].missing_pct) == ("10.0", "4.0")


def test_health_ignores_inactive_dimensions_and_treats_deactivated_values_as_unknown(world, tagsets, taxonomy):
    with scope(organization=world.org("a")):
        taxonomy["customer"].is_active = False
        taxonomy["customer"].save()
        taxonomy["search"].is_active = False
        taxonomy["search"].save()
        rows = {r.key: r for r in tagging_health(organization=world.org("a"))}
        assert set(rows) == {"team", "environment"}
        assert rows["team"].unknown_values == [("serch", 2), ("search", 1)]
        assert undefined_tag_keys(organization=world.org("a")) == [("cost_center", 1), ("customer", 1)]


def test_dimension_counts(world, taxonomy):
    with scope(organization=world.org("a")):
        taxonomy["support"].is_active = False
        taxonomy["support"].save()
        rows = {
            d.key: (d.value_count, d.inactive_value_count, d.alias_count)
            for d in dimensions_with_counts(organization=world.org("a"))
        }
    assert rows == {"team": (1, 1, 0), "environment": (2, 0, 2), "customer": (0, 0, 0)}
