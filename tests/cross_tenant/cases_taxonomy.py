"""Cross-tenant cases for the taxonomy app."""

from django_scopes import scope

from apps.taxonomy.models import TagAlias, TagDimension, TagSet, TagValue
from apps.taxonomy.normalise import tagset_hash

from . import tenant_model


def make_dimension(world, organization) -> TagDimension:
    with scope(organization=organization):
        dimension, _ = TagDimension.objects.get_or_create(
            organization=organization, key="team", defaults={"label": "Team", "required": True}
        )
    return dimension


def make_value(world, organization) -> TagValue:
    dimension = make_dimension(world, organization)
    with scope(organization=organization):
        value, _ = TagValue.objects.get_or_create(organization=organization, dimension=dimension, value="search")
    return value


def make_alias(world, organization) -> TagAlias:
    value = make_value(world, organization)
    with scope(organization=organization):
        alias, _ = TagAlias.objects.get_or_create(
            organization=organization, dimension=value.dimension, alias="srch", defaults={"value": value}
        )
    return alias


def make_tagset(world, organization) -> TagSet:
    tags = {"team": "search", "environment": "production"}
    with scope(organization=organization):
        tagset, _ = TagSet.objects.get_or_create(
            organization=organization, hash=tagset_hash(tags), defaults={"tags": tags}
        )
    return tagset


tenant_model("taxonomy.tagdimension", make_dimension)
tenant_model("taxonomy.tagvalue", make_value)
tenant_model("taxonomy.tagalias", make_alias)
tenant_model("taxonomy.tagset", make_tagset)
