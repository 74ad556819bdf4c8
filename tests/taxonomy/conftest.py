"""A small taxonomy in org "a": team (required, two values, one owned by CC-1101), environment
(required, aliases), customer (optional, no value list)."""

import pytest
from django_scopes import scope

from apps.taxonomy.models import CaseRule
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagAliasFactory, TagDimensionFactory, TagValueFactory


def build_taxonomy(world, key: str) -> dict:
    organization = world.org(key)
    with scope(organization=organization):
        owner = BudgetOwnerFactory(organization=organization, code="CC-1101", name="Search")
        team = TagDimensionFactory(organization=organization, key="team", required=True, position=10)
        environment = TagDimensionFactory(organization=organization, key="environment", required=True, position=20)
        customer = TagDimensionFactory(
            organization=organization, key="customer", position=30, case_rule=CaseRule.PRESERVE
        )
        search = TagValueFactory(dimension=team, value="search", owner=owner)
        support = TagValueFactory(dimension=team, value="support")
        production = TagValueFactory(dimension=environment, value="production")
        staging = TagValueFactory(dimension=environment, value="staging")
        prod = TagAliasFactory(value=production, alias="prod")
        TagAliasFactory(value=staging, alias="stg")
    return {
        "org": organization,
        "owner": owner,
        "team": team,
        "environment": environment,
        "customer": customer,
        "search": search,
        "support": support,
        "production": production,
        "staging": staging,
        "prod": prod,
    }


@pytest.fixture
def taxonomy(world) -> dict:
    return build_taxonomy(world, "a")
