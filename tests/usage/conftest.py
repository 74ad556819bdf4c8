"""Fixtures shared by the usage tests."""

import pytest
from django_scopes import scope

from apps.taxonomy.models import TagDimension


@pytest.fixture
def catalog(world, price_book):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            for position, name in enumerate(["team", "feature", "workspace", "environment", "provider"]):
                TagDimension.objects.create(
                    organization=organization, key=name, label=name.title(), required=True, position=position
                )
            TagDimension.objects.create(
                organization=organization,
                key="customer",
                label="Customer",
                required=False,
                position=9,
                granularity="detail",
            )
    return world
