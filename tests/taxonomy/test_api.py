import json

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.taxonomy.models import TagDimension, TagValue
from apps.taxonomy.normalise import tagset_hash
from apps.taxonomy.services import tagsets_get_or_create
from apps.tenancy.roles import TokenScope

pytestmark = pytest.mark.django_db

DIMENSIONS = reverse("api:tag-dimension-list")
VALUES = reverse("api:tag-value-list")
TAGSETS = reverse("api:tag-set-list")


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def test_dimensions_list_and_filter(world, taxonomy):
    response = world.api("a", [TokenScope.CATALOG_READ]).get(DIMENSIONS, {"required": "true"})
    assert response.status_code == 200
    assert [(d["key"], d["required"], d["case_rule"]) for d in response.json()["results"]] == [
        ("team", True, "lower"),
        ("environment", True, "lower"),
    ]


def test_dimension_create_and_patch_go_through_the_services(world, taxonomy):
    api = world.api("a")
    response = _post(api, DIMENSIONS, {"key": "Cost Center", "label": "Cost centre", "required": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["key"], body["position"], body["is_active"]) == ("cost_center", 40, True)
    url = reverse("api:tag-dimension-detail", kwargs={"pk": body["id"]})
    assert _patch(api, url, {"key": "cc"}).json() == {
        "key": ["The key cannot change: usage already recorded uses it. Add a new dimension."]
    }
    assert _patch(api, url, {"is_active": False}).json()["is_active"] is False
    with scope(organization=world.org("a")):
        actions = list(AuditEvent.objects.filter(object_type="taxonomy.tagdimension").values_list("action", flat=True))
    assert actions == ["tag_dimension.created", "tag_dimension.updated"]


def test_dimension_validation_errors(world, taxonomy):
    response = _post(world.api("a"), DIMENSIONS, {"key": "team", "label": "Team"})
    assert response.status_code == 400
    assert response.json() == {"key": ["There is already a dimension called team."]}
    response = _post(world.api("a"), DIMENSIONS, {"key": "9 lives", "label": "X", "case_rule": "title"})
    assert set(response.json()) == {"case_rule"}  # the serializer's choice check answers first
    response = _post(world.api("a"), DIMENSIONS, {"key": "9 lives", "label": "X"})
    assert response.json() == {
        "key": ["Use lower-case letters, digits and underscores, starting with a letter (e.g. cost_center)."]
    }


def test_values_show_dimension_key_owner_code_and_aliases(world, taxonomy):
    response = world.api("a").get(VALUES, {"dimension": "environment"})
    assert [(v["value"], v["aliases"], v["owner"]) for v in response.json()["results"]] == [
        ("production", ["prod"], None),
        ("staging", ["stg"], None),
    ]
    search = world.api("a").get(VALUES, {"owner": "cc-1101"}).json()["results"]
    assert [(v["dimension"], v["value"], v["owner"]) for v in search] == [("team", "search", "CC-1101")]


def test_value_create_and_update(world, taxonomy):
    api = world.api("a")
    response = _post(
        api, VALUES, {"dimension": "environment", "value": "Development", "aliases": ["dev", "DEV ", "devel"]}
    )
    assert response.status_code == 201, response.content
    assert (response.json()["value"], response.json()["aliases"]) == ("development", ["dev", "devel"])
    url = reverse("api:tag-value-detail", kwargs={"pk": response.json()["id"]})
    response = _patch(api, url, {"aliases": ["dev"], "owner": "CC-1101", "description": "Laptops and CI"})
    assert response.status_code == 200, response.content
    assert (response.json()["aliases"], response.json()["owner"]) == (["dev"], "CC-1101")
    with scope(organization=world.org("a")):
        stored = TagValue.objects.get(pk=response.json()["id"])
        assert (stored.description, stored.owner.code) == ("Laptops and CI", "CC-1101")
        assert AuditEvent.objects.filter(object_type="taxonomy.tagvalue", object_id=str(stored.pk)).count() == 2


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"dimension": "colour", "value": "red"},
            {"dimension": ["There is no tag dimension 'colour' in this organisation."]},
        ),
        (
            {"dimension": "team", "value": "x", "owner": "CC-404"},
            {"owner": ["No cost centre has the code 'CC-404' in this organisation."]},
        ),
        ({"dimension": "team", "value": "Search"}, {"value": ["team already has the value search."]}),
        (
            {"dimension": "environment", "value": "qa", "aliases": ["stg"]},
            {"aliases": ["“stg” is already an alias of staging."]},
        ),
    ],
)
def test_value_validation_errors(world, taxonomy, payload, errors):
    response = _post(world.api("a"), VALUES, payload)
    assert response.status_code == 400
    assert response.json() == errors


def test_a_value_cannot_move_dimension_or_use_another_orgs_owner(world, taxonomy):
    from tests.taxonomy.conftest import build_taxonomy

    build_taxonomy(world, "b")
    url = reverse("api:tag-value-detail", kwargs={"pk": taxonomy["search"].pk})
    assert "dimension" in _patch(world.api("a"), url, {"dimension": "environment"}).json()
    with scope(organization=world.org("b")):
        b_dimension = TagDimension.objects.get(key="team")
    # org b's dimension and owner codes resolve in org b only
    response = _post(world.api("b"), VALUES, {"dimension": "team", "value": "assistant", "owner": "CC-1101"})
    assert response.status_code == 201
    with scope(organization=world.org("b")):
        created = TagValue.objects.get(pk=response.json()["id"])
    assert created.dimension_id == b_dimension.pk and created.owner.organization_id == world.org("b").pk


def test_values_cannot_be_deleted_or_written_with_a_read_token(world, taxonomy):
    url = reverse("api:tag-value-detail", kwargs={"pk": taxonomy["search"].pk})
    assert world.api("a").delete(url).status_code in (403, 405)  # no scope allows deleting
    with scope(organization=world.org("a")):
        assert TagValue.objects.filter(pk=taxonomy["search"].pk).exists()
    assert (
        _post(world.api("a", [TokenScope.CATALOG_READ]), VALUES, {"dimension": "team", "value": "x"}).status_code == 403
    )
    assert world.api("a", [TokenScope.ORG_READ]).get(VALUES).status_code == 403


def test_tag_sets_are_read_only_and_filter_by_hash(world):
    ids = tagsets_get_or_create(
        organization=world.org("a"), tag_dicts=[{"team": "search"}, {"team": "support", "environment": "production"}]
    )
    wanted = tagset_hash({"team": "support", "environment": "production"})
    response = world.api("a", [TokenScope.CATALOG_READ]).get(TAGSETS, {"hash": wanted})
    assert response.json()["results"] == [
        {
            "id": ids[wanted],
            "hash": wanted,
            "tags": {"environment": "production", "team": "support"},
            "created_at": response.json()["results"][0]["created_at"],
        }
    ]
    assert _post(world.api("a"), TAGSETS, {"tags": {}}).status_code == 405  # read-only: no handler, whatever the scope


def test_openapi_schema_lists_the_taxonomy_routes():
    from django.test import Client

    paths = Client().get(reverse("api:schema"), {"format": "json"}).json()["paths"]
    assert {"/api/v1/tag-dimensions/", "/api/v1/tag-values/{id}/", "/api/v1/tag-sets/"} <= set(paths)
