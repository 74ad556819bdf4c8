import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.taxonomy.models import TagAlias, TagDimension, TagValue
from apps.taxonomy.services import tagsets_get_or_create
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _url(name: str, **kwargs) -> str:
    return reverse(f"taxonomy:{name}", kwargs={"org_slug": "alpha", **kwargs})


def test_dimension_list_shows_required_flags_and_value_counts(world, taxonomy):
    response = world.login("a", Role.VIEWER).get(_url("dimensions"))
    assert response.status_code == 200
    rows = {d.key: (d.required, d.value_count, d.alias_count) for d in response.context["page"]}
    assert rows == {"team": (True, 2, 0), "environment": (True, 2, 2), "customer": (False, 0, 0)}
    assert b"any value" in response.content  # customer has no value list
    assert b"Add a dimension" not in response.content  # viewers cannot edit


def test_empty_states(world):
    response = world.login("a").get(_url("dimensions"))
    assert b"No tag dimensions yet." in response.content
    response = world.login("a").get(reverse("usage:tagging_health", kwargs={"org_slug": "alpha"}))
    assert b"No active tag dimensions" in response.content


def test_dimension_detail_lists_values_aliases_and_owner(world, taxonomy):
    response = world.login("a").get(_url("dimension_detail", pk=taxonomy["environment"].pk))
    assert [v.value for v in response.context["page"]] == ["production", "staging"]
    assert b"<code>prod</code>" in response.content
    team = world.login("a").get(_url("dimension_detail", pk=taxonomy["team"].pk))
    assert b"CC-1101" in team.content
    found = world.login("a").get(_url("dimension_detail", pk=taxonomy["team"].pk), {"q": "sup"})
    assert [v.value for v in found.context["page"]] == ["support"]


def test_create_dimension_and_value_through_the_pages(world, taxonomy):
    client = world.login("a", Role.FINANCE_ANALYST)
    response = client.post(
        _url("dimension_create"), {"key": "Cost Center", "label": "Cost centre", "case_rule": "upper", "required": "on"}
    )
    with scope(organization=world.org("a")):
        dimension = TagDimension.objects.get(key="cost_center")
    assert response.status_code == 302
    assert (dimension.required, dimension.case_rule) == (True, "upper")
    response = client.post(
        _url("value_create", pk=dimension.pk),
        {"value": "cc-1101", "owner": taxonomy["owner"].pk, "aliases": "search team, srch"},
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        value = TagValue.objects.get(dimension=dimension)
        assert (value.value, value.owner_id) == ("CC-1101", taxonomy["owner"].pk)
        assert sorted(value.aliases.values_list("alias", flat=True)) == ["search team", "srch"]


def test_validation_errors_are_shown_on_the_form(world, taxonomy):
    client = world.login("a")
    response = client.post(_url("dimension_create"), {"key": "team", "label": "Team", "case_rule": "lower"})
    assert response.status_code == 200
    assert response.context["form"].errors["key"] == ["There is already a dimension called team."]
    response = client.post(_url("value_create", pk=taxonomy["environment"].pk), {"value": "qa", "aliases": "prod"})
    assert response.context["form"].errors["aliases"] == ["“prod” is already an alias of production."]


def test_edit_dimension_cannot_change_its_key(world, taxonomy):
    client = world.login("a")
    url = _url("dimension_edit", pk=taxonomy["customer"].pk)
    assert client.get(url).context["form"].fields["key"].disabled
    client.post(url, {"key": "client", "label": "Customer account", "case_rule": "preserve", "position": 5})
    with scope(organization=world.org("a")):
        customer = TagDimension.objects.get(pk=taxonomy["customer"].pk)
    assert (customer.key, customer.label, customer.position) == ("customer", "Customer account", 5)


def test_edit_value_replaces_aliases(world, taxonomy):
    response = world.login("a").post(
        _url("value_edit", pk=taxonomy["environment"].pk, value_pk=taxonomy["production"].pk),
        {"value": "production", "aliases": "prd, live", "owner": ""},
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        assert sorted(TagAlias.objects.filter(value=taxonomy["production"]).values_list("alias", flat=True)) == [
            "live",
            "prd",
        ]


def test_value_of_another_dimension_is_404(world, taxonomy):
    url = _url("value_edit", pk=taxonomy["team"].pk, value_pk=taxonomy["production"].pk)
    assert world.login("a").get(url).status_code == 404


def test_alias_add_and_remove(world, taxonomy):
    client = world.login("a")
    env, prod = taxonomy["environment"].pk, taxonomy["production"].pk
    client.post(_url("alias_add", pk=env, value_pk=prod), {"alias": "Live"})
    response = client.post(_url("alias_add", pk=env, value_pk=taxonomy["staging"].pk), {"alias": "live"}, follow=True)
    assert "“live” is already an alias of production." in [str(m) for m in response.context["messages"]]
    with scope(organization=world.org("a")):
        live = TagAlias.objects.get(alias="live")
        assert live.value_id == prod
    client.post(_url("alias_remove", pk=env, value_pk=prod, alias_pk=live.pk))
    with scope(organization=world.org("a")):
        assert not TagAlias.objects.filter(alias="live").exists()
        assert AuditEvent.objects.filter(action__in=["tag_alias.added", "tag_alias.removed"]).count() == 2


def test_deactivate_and_reactivate(world, taxonomy):
    client = world.login("a")
    client.post(_url("dimension_deactivate", pk=taxonomy["customer"].pk), {"reason": "unused"})
    client.post(_url("value_deactivate", pk=taxonomy["team"].pk, value_pk=taxonomy["support"].pk))
    with scope(organization=world.org("a")):
        assert TagDimension.objects.get(key="customer").is_active is False
        assert TagValue.objects.get(pk=taxonomy["support"].pk).is_active is False
    client.post(_url("value_reactivate", pk=taxonomy["team"].pk, value_pk=taxonomy["support"].pk))
    client.post(_url("dimension_reactivate", pk=taxonomy["customer"].pk))
    with scope(organization=world.org("a")):
        assert TagDimension.objects.get(key="customer").is_active is True
        assert TagValue.objects.get(pk=taxonomy["support"].pk).is_active is True


@pytest.mark.parametrize("role", [Role.VIEWER, Role.BUDGET_OWNER])
def test_readers_cannot_edit(world, taxonomy, role):
    client = world.login("a", role)
    assert client.get(_url("dimension_detail", pk=taxonomy["team"].pk)).status_code == 200
    assert client.get(_url("dimension_create")).status_code == 403
    assert client.get(_url("value_edit", pk=taxonomy["team"].pk, value_pk=taxonomy["search"].pk)).status_code == 403
    response = client.post(_url("alias_add", pk=taxonomy["team"].pk, value_pk=taxonomy["search"].pk), {"alias": "x"})
    assert response.status_code == 403


def test_health_page_counts_requests_from_the_usage_cube_and_lists_unknown_values(world, taxonomy):
    from datetime import date

    from apps.taxonomy.models import TagSet
    from tests.factories.usage import DailyUsageFactory

    ids = tagsets_get_or_create(
        organization=world.org("a"),
        tag_dicts=[
            {"team": "search", "environment": "production"},
            {"team": "serch", "environment": "production"},
            {"team": "serch"},
            {"environment": "qa", "cost_center": "x"},
        ],
    )
    requests = [10, 5, 2, 1]  # per tag set, in the order above
    with scope(organization=world.org("a")):
        for tagset_id, count in zip(ids.values(), requests, strict=True):
            DailyUsageFactory(
                organization=world.org("a"),
                day=date(2026, 10, 1),
                tagset=TagSet.objects.get(pk=tagset_id),
                records=0,
                requests=count,
            )
    response = world.login("a", Role.BUDGET_OWNER).get(reverse("usage:tagging_health", kwargs={"org_slug": "alpha"}))
    rows = {r.key: r for r in response.context["rows"]}
    assert (rows["team"].counted, rows["team"].missing, rows["team"].unknown_values) == (18, 1, [("serch", 7)])
    assert (rows["environment"].missing, rows["environment"].unknown_values) == (2, [("qa", 1)])
    assert response.context["undefined_keys"] == [("cost_center", 1)]
    assert b"Counts are of requests recorded in the usage cube" in response.content
