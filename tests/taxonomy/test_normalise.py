"""The normaliser is pure: these tests build it from plain data, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.taxonomy.normalise import DimensionRule, NormalisedTags, TagNormaliser, normalise_key, tagset_hash


@pytest.fixture
def normaliser() -> TagNormaliser:
    return TagNormaliser(
        dimensions=[
            DimensionRule("team", required=True),
            DimensionRule("feature", required=True),
            DimensionRule("environment", required=True),
            DimensionRule("region", case_rule="upper"),
            DimensionRule("product_line", case_rule="preserve"),
            DimensionRule("customer"),
        ],
        values={
            "team": {"search", "support"},
            "environment": {"production", "staging"},
            "region": {"EMEA", "AMER"},
            "product_line": {"Acme Cloud"},
            "feature": set(),  # a value list whose only value was deactivated: everything is unknown
        },
        aliases={"environment": {"prod": "production", "prd": "production", "stg": "staging"}},
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("team", "team"),
        ("  Team ", "team"),
        ("Cost Center", "cost_center"),
        ("cost-center", "cost_center"),
        ("cost - center", "cost_center"),
        ("COST_CENTER", "cost_center"),
    ],
)
def test_normalise_key(raw, expected):
    assert normalise_key(raw) == expected


def test_values_are_trimmed_collapsed_lower_cased_and_aliases_resolved(normaliser):
    result = normaliser.normalise(
        {" Team ": "  Search ", "Feature": "Answer   Summaries", "environment": " PROD ", "customer": "Cust_042"}
    )
    assert result.tags == {
        "customer": "cust_042",  # customer's default case rule is lower
        "environment": "production",
        "feature": "answer summaries",
        "team": "search",
    }
    assert result.missing_required == ()


def test_case_rules_upper_and_preserve(normaliser):
    result = normaliser.normalise({"region": "emea", "product_line": "Acme  Cloud"})
    assert result.tags["region"] == "EMEA"
    assert result.tags["product_line"] == "Acme Cloud"
    # a preserve dimension still matches its canonical value case-insensitively
    assert normaliser.normalise({"product_line": "acme cloud"}).tags["product_line"] == "Acme Cloud"
    assert normaliser.normalise({"product_line": "Other Line"}).tags["product_line"] == "Other Line"


def test_alias_lookup_ignores_case_and_spacing(normaliser):
    assert normaliser.normalise({"environment": "Prd"}).tags["environment"] == "production"
    assert normaliser.normalise({"environment": " STG"}).tags["environment"] == "staging"


def test_missing_required_are_sorted_and_never_defaulted(normaliser):
    result = normaliser.normalise({"environment": "production", "team": "", "feature": None})
    assert result.tags == {"environment": "production"}
    assert result.missing_required == ("feature", "team")


def test_empty_and_whitespace_values_are_dropped(normaliser):
    result = normaliser.normalise({"team": "search", "customer": "   ", "workspace": None})
    assert result.tags == {"team": "search"}


def test_unknown_values_are_reported_but_kept(normaliser):
    result = normaliser.normalise(
        {"team": "Serch", "environment": "qa", "feature": "x", "region": "apac", "customer": "anything"}
    )
    assert result.tags["team"] == "serch"
    assert result.unknown == (("environment", "qa"), ("feature", "x"), ("region", "APAC"), ("team", "serch"))


def test_dimensions_without_a_value_list_accept_anything(normaliser):
    assert normaliser.normalise({"customer": "cust_9"}).unknown == ()


def test_unknown_keys_are_kept_with_their_normalised_key_and_their_case(normaliser):
    result = normaliser.normalise({"Cost Center": " CC-1101 ", "team": "search"})
    assert result.tags == {"cost_center": "CC-1101", "team": "search"}
    assert result.unknown == ()


def test_numbers_are_converted_with_str(normaliser):
    assert normaliser.normalise({"customer": 42, "build": 3.5}).tags == {"customer": "42", "build": "3.5"}


@pytest.mark.parametrize("bad", [{"a": 1}, ["search", "support"], ("x",)])
def test_nested_values_are_refused_naming_the_key(normaliser, bad):
    with pytest.raises(ValueError, match="'team'"):
        normaliser.normalise({"Team": bad})


def test_the_same_key_twice_with_different_values_is_refused(normaliser):
    with pytest.raises(ValueError, match="'team' is given twice"):
        normaliser.normalise({"team": "search", "Team": "support"})
    assert normaliser.normalise({"team": "search", "Team ": "Search"}).tags == {"team": "search"}


def test_a_value_without_a_name_is_refused(normaliser):
    with pytest.raises(ValueError, match="no name"):
        normaliser.normalise({"  ": "search"})


def test_result_is_frozen(normaliser):
    result = normaliser.normalise({"team": "search"})
    assert isinstance(result, NormalisedTags)
    with pytest.raises(AttributeError):
        result.tags = {}  # type: ignore[misc]


def test_hash_is_sha256_of_canonical_json():
    # {"a":"1","b":"é"} in canonical form, UTF-8
    assert tagset_hash({"b": "é", "a": "1"}) == tagset_hash({"a": "1", "b": "é"})
    import hashlib

    assert tagset_hash({"b": "é", "a": "1"}) == hashlib.sha256('{"a":"1","b":"é"}'.encode()).hexdigest()
    assert len(tagset_hash({})) == 64


tag_dicts = st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=12), max_size=8)


@given(tag_dicts, st.randoms())
def test_key_order_does_not_change_the_hash(tags, rnd):
    items = list(tags.items())
    rnd.shuffle(items)
    assert tagset_hash(dict(items)) == tagset_hash(tags)


@given(tag_dicts, tag_dicts)
def test_different_tags_give_different_hashes(left, right):
    assert (tagset_hash(left) == tagset_hash(right)) == (left == right)
