import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.taxonomy.models import TagAlias, TagDimension, TagSet, TagValue
from apps.taxonomy.normalise import tagset_hash
from apps.taxonomy.services import (
    tag_alias_add,
    tag_alias_remove,
    tag_dimension_create,
    tag_dimension_set_active,
    tag_dimension_update,
    tag_normaliser_for,
    tag_value_create,
    tag_value_set_active,
    tag_value_update,
    tagsets_get_or_create,
)
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagValueFactory

pytestmark = pytest.mark.django_db


def _events(organization, prefix: str) -> list[AuditEvent]:
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq"))


# --- ingestion services ----------------------------------------------------------------------------------


def test_normaliser_for_reads_the_organisations_taxonomy(world, taxonomy):
    with scope(organization=world.org("a")):
        taxonomy["support"].is_active = False
        taxonomy["support"].save()
    normaliser = tag_normaliser_for(organization=world.org("a"))
    result = normaliser.normalise({"Team": "Support", "environment": "PROD", "customer": "Cust_1"})
    assert result.tags == {"customer": "Cust_1", "environment": "production", "team": "support"}
    assert result.unknown == (("team", "support"),)  # deactivated values are no longer accepted
    assert normaliser.normalise({}).missing_required == ("environment", "team")


def test_normaliser_ignores_inactive_dimensions_and_other_organisations(world, taxonomy):
    with scope(organization=world.org("a")):
        taxonomy["environment"].is_active = False
        taxonomy["environment"].save()
    normaliser = tag_normaliser_for(organization=world.org("a"))
    result = normaliser.normalise({"environment": "prod"})
    assert result.tags == {"environment": "prod"}  # no longer a dimension: kept as written
    assert result.missing_required == ("team",)
    assert tag_normaliser_for(organization=world.org("b")).normalise({"team": "x"}).unknown == ()


def test_tagsets_get_or_create_is_idempotent(world):
    organization = world.org("a")
    first = tagsets_get_or_create(
        organization=organization,
        tag_dicts=[{"team": "search"}, {"team": "support", "environment": "production"}, {"team": "search"}],
    )
    assert set(first) == {
        tagset_hash({"team": "search"}),
        tagset_hash({"environment": "production", "team": "support"}),
    }
    # overlapping second call, keys in another order
    second = tagsets_get_or_create(
        organization=organization,
        tag_dicts=[{"environment": "production", "team": "support"}, {"team": "assistant"}],
    )
    assert (
        second[tagset_hash({"team": "support", "environment": "production"})]
        == first[tagset_hash({"team": "support", "environment": "production"})]
    )
    with scope(organization=organization):
        assert TagSet.objects.count() == 3
        stored = TagSet.objects.get(pk=second[tagset_hash({"team": "assistant"})])
    assert stored.tags == {"team": "assistant"}


def test_tagsets_recover_from_a_row_inserted_concurrently(world, monkeypatch):
    """Another ingest inserts the same tag set between our read and our insert: ignore_conflicts
    turns our insert into a no-op and the re-read returns the other ingest's row."""
    from apps.taxonomy import services

    organization = world.org("a")
    tags = {"team": "search"}
    real = services._existing_tagset_ids
    calls = []

    def racing_read(org, hashes):
        calls.append(list(hashes))
        if len(calls) == 1:
            found = real(org, hashes)
            with scope(organization=org):
                TagSet.objects.create(organization=org, hash=tagset_hash(tags), tags=tags)  # the other ingest
            return found
        return real(org, hashes)

    monkeypatch.setattr(services, "_existing_tagset_ids", racing_read)
    ids = tagsets_get_or_create(organization=organization, tag_dicts=[tags])
    with scope(organization=organization):
        assert list(TagSet.objects.values_list("pk", flat=True)) == [ids[tagset_hash(tags)]]
    assert len(calls) == 2


def test_tagsets_are_per_organisation(world):
    a = tagsets_get_or_create(organization=world.org("a"), tag_dicts=[{"team": "search"}])
    b = tagsets_get_or_create(organization=world.org("b"), tag_dicts=[{"team": "search"}])
    assert a.keys() == b.keys()
    assert a != b


def test_tagsets_handle_more_than_one_chunk(world):
    dicts = [{"customer": f"cust_{n:04d}"} for n in range(1203)]
    ids = tagsets_get_or_create(organization=world.org("a"), tag_dicts=dicts)
    assert len(ids) == 1203
    again = tagsets_get_or_create(organization=world.org("a"), tag_dicts=dicts)
    assert again == ids


def test_tagsets_refuse_non_string_values(world):
    with pytest.raises(ValueError, match="normalised strings"):
        tagsets_get_or_create(organization=world.org("a"), tag_dicts=[{"team": 3}])


# --- dimensions -------------------------------------------------------------------------------------------


def test_dimension_create_normalises_the_key_and_audits(world):
    organization = world.org("a")
    with scope(organization=organization):
        dimension = tag_dimension_create(
            organization=organization, actor=world.user("a"), key=" Cost Center ", label="Cost centre", required=True
        )
    assert dimension.key == "cost_center"
    assert dimension.position == 10
    [event] = _events(organization, "tag_dimension.created")
    assert event.after == {
        "key": "cost_center",
        "label": "Cost centre",
        "description": "",
        "required": True,
        "case_rule": "lower",
        "granularity": "cube",
        "is_active": True,
        "position": 10,
    }


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "Give the dimension a key"), ("9team", "starting with a letter"), ("team.name", "lower-case letters")],
)
def test_dimension_key_format(world, key, message):
    with scope(organization=world.org("a")), pytest.raises(ValidationError) as excinfo:
        tag_dimension_create(organization=world.org("a"), actor=None, key=key, label="X")
    assert message in excinfo.value.message_dict["key"][0]


def test_dimension_key_unique_per_org_only(world, taxonomy):
    with scope(organization=world.org("a")), pytest.raises(ValidationError) as excinfo:
        tag_dimension_create(organization=world.org("a"), actor=None, key="Team", label="Team")
    assert excinfo.value.message_dict["key"] == ["There is already a dimension called team."]
    with scope(organization=world.org("b")):
        assert tag_dimension_create(organization=world.org("b"), actor=None, key="team", label="Team").key == "team"


def test_dimension_key_cannot_change(world, taxonomy):
    with scope(organization=world.org("a")), pytest.raises(ValidationError) as excinfo:
        tag_dimension_update(dimension=taxonomy["team"], actor=None, data={"key": "squad"})
    assert "cannot change" in excinfo.value.message_dict["key"][0]


def test_case_rule_change_is_refused_while_values_break_it(world, taxonomy):
    with scope(organization=world.org("a")):
        with pytest.raises(ValidationError) as excinfo:
            tag_dimension_update(dimension=taxonomy["team"], actor=None, data={"case_rule": "upper"})
        assert "search, support" in excinfo.value.message_dict["case_rule"][0]
        updated = tag_dimension_update(dimension=taxonomy["team"], actor=None, data={"case_rule": "preserve"})
    assert updated.case_rule == "preserve"


def test_dimension_update_and_deactivate_audit_before_and_after(world, taxonomy):
    organization = world.org("a")
    with scope(organization=organization):
        tag_dimension_update(dimension=taxonomy["customer"], actor=None, data={"label": "Customer", "required": True})
        tag_dimension_update(dimension=taxonomy["customer"], actor=None, data={"label": "Customer"})  # no change
        tag_dimension_set_active(active=False, dimension=taxonomy["customer"], actor=None, reason="not used")
        with pytest.raises(ValidationError):
            tag_dimension_set_active(active=False, dimension=taxonomy["customer"], actor=None)
        assert TagDimension.objects.get(key="customer").is_active is False
    [updated] = _events(organization, "tag_dimension.updated")
    assert (updated.before["required"], updated.after["required"]) == (False, True)
    [deactivated] = _events(organization, "tag_dimension.deactivated")
    assert (deactivated.before["is_active"], deactivated.after["is_active"], deactivated.reason) == (
        True,
        False,
        "not used",
    )


# --- values -----------------------------------------------------------------------------------------------


def test_value_create_normalises_links_owner_and_aliases(world, taxonomy):
    organization = world.org("a")
    with scope(organization=organization):
        value = tag_value_create(
            organization=organization,
            actor=world.user("a"),
            dimension=taxonomy["team"],
            value="  Recommendations ",
            owner=taxonomy["owner"],
            aliases=["Recs", " reco  ", "recs"],
        )
        assert sorted(value.aliases.values_list("alias", flat=True)) == ["reco", "recs"]
    assert value.value == "recommendations"
    [event] = _events(organization, "tag_value.created")
    assert event.after == {
        "value": "recommendations",
        "description": "",
        "is_active": True,
        "dimension": "team",
        "owner": "CC-1101",
        "aliases": ["reco", "recs"],
    }


def test_value_duplicates_are_refused_ignoring_case(world, taxonomy):
    with scope(organization=world.org("a")):
        tag_dimension_update(dimension=taxonomy["team"], actor=None, data={"case_rule": "preserve"})
        with pytest.raises(ValidationError) as excinfo:
            tag_value_create(organization=world.org("a"), actor=None, dimension=taxonomy["team"], value="Search")
    assert excinfo.value.message_dict["value"] == ["team already has the value search."]


def test_value_may_not_be_an_existing_alias(world, taxonomy):
    with scope(organization=world.org("a")), pytest.raises(ValidationError) as excinfo:
        tag_value_create(organization=world.org("a"), actor=None, dimension=taxonomy["environment"], value="PROD")
    assert "is an alias of production" in excinfo.value.message_dict["value"][0]


def test_alias_conflicts_are_all_reported(world, taxonomy):
    with scope(organization=world.org("a")), pytest.raises(ValidationError) as excinfo:
        tag_value_create(
            organization=world.org("a"),
            actor=None,
            dimension=taxonomy["environment"],
            value="development",
            aliases=["Staging", "prod", "Development", "dev"],
        )
    problems = excinfo.value.message_dict["aliases"]
    assert problems == [
        "“Staging” is a value of its own in environment; it cannot also be an alias.",
        "“prod” is already an alias of production.",
        "“Development” already matches development (case and spacing are ignored), so it needs no alias.",
    ]
    with scope(organization=world.org("a")):
        assert not TagValue.objects.filter(value="development").exists()


def test_owner_must_be_active_and_in_the_same_organisation(world, taxonomy):
    with scope(organization=world.org("b")):
        foreign = BudgetOwnerFactory(organization=world.org("b"), code="CC-1101")
    with scope(organization=world.org("a")):
        inactive = BudgetOwnerFactory(organization=world.org("a"), code="CC-OLD", is_active=False)
        for owner, message in (
            (foreign, "The cost centre must belong to this organisation."),
            (inactive, "CC-OLD is inactive: pick an active cost centre."),
        ):
            with pytest.raises(ValidationError) as excinfo:
                tag_value_create(
                    organization=world.org("a"), actor=None, dimension=taxonomy["team"], value="x", owner=owner
                )
            assert excinfo.value.message_dict["owner"] == [message]


def test_value_of_another_organisations_dimension_is_refused(world, taxonomy):
    with scope(organization=world.org("b")), pytest.raises(ValidationError) as excinfo:
        tag_value_create(organization=world.org("b"), actor=None, dimension=taxonomy["team"], value="x")
    assert "dimension" in excinfo.value.message_dict


def test_rename_keeps_the_old_spelling_as_an_alias(world, taxonomy):
    organization = world.org("a")
    with scope(organization=organization):
        renamed = tag_value_update(tag_value=taxonomy["support"], actor=None, data={"value": "Support-Automation"})
        assert renamed.value == "support-automation"
        assert list(renamed.aliases.values_list("alias", flat=True)) == ["support"]
    normaliser = tag_normaliser_for(organization=organization)
    assert normaliser.normalise({"team": "Support"}).tags == {"team": "support-automation"}
    [event] = _events(organization, "tag_value.updated")
    assert (event.before["value"], event.after["value"], event.after["aliases"]) == (
        "support",
        "support-automation",
        ["support"],
    )


def test_update_replaces_the_alias_list_in_one_event(world, taxonomy):
    organization = world.org("a")
    with scope(organization=organization):
        tag_value_update(tag_value=taxonomy["production"], actor=None, data={"aliases": ["prd", "live"]})
        assert sorted(TagAlias.objects.filter(value=taxonomy["production"]).values_list("alias", flat=True)) == [
            "live",
            "prd",
        ]
    [event] = _events(organization, "tag_value.updated")
    assert (event.before["aliases"], event.after["aliases"]) == (["prod"], ["live", "prd"])


def test_value_deactivate(world, taxonomy):
    with scope(organization=world.org("a")):
        tag_value_set_active(active=False, tag_value=taxonomy["support"], actor=None)
        assert TagValue.objects.get(pk=taxonomy["support"].pk).is_active is False
    assert len(_events(world.org("a"), "tag_value.deactivated")) == 1


def test_alias_add_and_remove_are_audited(world, taxonomy):
    organization = world.org("a")
    with scope(organization=organization):
        alias = tag_alias_add(tag_value=taxonomy["production"], actor=None, alias="  PRD ")
        assert alias.alias == "prd"
        with pytest.raises(ValidationError) as excinfo:
            tag_alias_add(tag_value=taxonomy["staging"], actor=None, alias="prd")
        assert excinfo.value.message_dict["alias"] == ["“prd” is already an alias of production."]
        with pytest.raises(ValidationError):
            tag_alias_add(tag_value=taxonomy["production"], actor=None, alias="Prd")
        tag_alias_remove(alias=alias, actor=None)
        assert not TagAlias.objects.filter(alias="prd").exists()
    [added] = _events(organization, "tag_alias.added")
    assert added.after["aliases"] == ["prd", "prod"]
    [removed] = _events(organization, "tag_alias.removed")
    assert (removed.before["aliases"], removed.after["aliases"]) == (["prd", "prod"], ["prod"])


def test_the_same_alias_may_exist_in_two_dimensions(world, taxonomy):
    with scope(organization=world.org("a")):
        other = TagValueFactory(dimension=taxonomy["team"], value="platform")
        assert tag_alias_add(tag_value=other, actor=None, alias="prod").alias == "prod"
