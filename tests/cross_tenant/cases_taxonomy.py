"""Cross-tenant cases for the taxonomy app."""

from django_scopes import scope

from apps.taxonomy.models import TagAlias, TagDimension, TagSet, TagValue
from apps.taxonomy.normalise import tagset_hash

from . import api_route, portal_route, tenant_model


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


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _dimension(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_dimension(world, organization).pk}


def _value(world, organization) -> dict:
    value = make_value(world, organization)
    return {"org_slug": organization.slug, "pk": value.dimension_id, "value_pk": value.pk}


def _alias(world, organization) -> dict:
    alias = make_alias(world, organization)
    return {"org_slug": organization.slug, "pk": alias.dimension_id, "value_pk": alias.value_id, "alias_pk": alias.pk}


portal_route("taxonomy:dimensions", _org)
portal_route("taxonomy:dimension_create", _org)
portal_route("taxonomy:dimension_detail", _dimension)
portal_route("taxonomy:dimension_edit", _dimension)
portal_route("taxonomy:dimension_deactivate", _dimension, method="post")
portal_route("taxonomy:dimension_reactivate", _dimension, method="post")
portal_route("taxonomy:value_create", _dimension)
portal_route("taxonomy:value_edit", _value)
portal_route("taxonomy:value_deactivate", _value, method="post")
portal_route("taxonomy:value_reactivate", _value, method="post")
portal_route("taxonomy:alias_add", _value, method="post")
portal_route("taxonomy:alias_remove", _alias, method="post")


api_route("api:tag-dimension-list", row_id=lambda w, o: make_dimension(w, o).pk)
api_route("api:tag-dimension-detail", lambda w, o: {"pk": make_dimension(w, o).pk})
api_route("api:tag-value-list", row_id=lambda w, o: make_value(w, o).pk)
api_route("api:tag-value-detail", lambda w, o: {"pk": make_value(w, o).pk})
api_route("api:tag-set-list", row_id=lambda w, o: make_tagset(w, o).pk)
api_route("api:tag-set-detail", lambda w, o: {"pk": make_tagset(w, o).pk})
