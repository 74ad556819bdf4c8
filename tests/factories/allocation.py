"""A small, realistic catalog for allocation rule tests, and a rule-set factory (the months allocated with
them are in tests/scenarios.py)."""

from django_scopes import scope

from apps.allocation.rules.services import draft_update, rule_set_create
from apps.owners.models import BudgetOwner
from tests.factories.pricing import AiModelFactory, ProviderFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory


def allocation_catalog(organization) -> dict:
    """Owners CC-1101 Search, CC-1201 Ads, CC-1301 Platform (central), CC-1401 Finance, CC-1901 (inactive);
    tag team (search → CC-1101, ads → CC-1201, research unlinked) and feature (chat, gateway-healthcheck);
    provider openai with gpt-4o and anthropic with claude-sonnet-4-5."""
    with scope(organization=organization):
        owners = {}
        for code, name, central, active in [
            ("CC-1101", "Search", False, True),
            ("CC-1201", "Ads", False, True),
            ("CC-1301", "Platform", True, True),
            ("CC-1401", "Finance", False, True),
            ("CC-1901", "Legacy labs", False, False),
        ]:
            owners[code], _ = BudgetOwner.objects.get_or_create(
                organization=organization,
                code=code,
                defaults={"name": name, "is_central": central, "is_active": active},
            )
        team = TagDimensionFactory(organization=organization, key="team")
        for value, owner in [("search", "CC-1101"), ("ads", "CC-1201"), ("research", None)]:
            TagValueFactory(dimension=team, organization=organization, value=value, owner=owners.get(owner))
        feature = TagDimensionFactory(organization=organization, key="feature")
        for value in ("chat", "gateway-healthcheck"):
            TagValueFactory(dimension=feature, organization=organization, value=value)
    AiModelFactory(provider=ProviderFactory(code="openai"), code="gpt-4o")
    AiModelFactory(provider=ProviderFactory(code="anthropic"), code="claude-sonnet-4-5")
    return owners


def rule_set_with_draft(organization, document: dict, *, name: str = "Allocation rules", actor=None):
    rule_set = rule_set_create(organization=organization, actor=actor, name=name)
    with scope(organization=organization):
        draft = rule_set.versions.get(status="draft")
    draft, _check = draft_update(draft=draft, document=document, actor=actor)
    return draft
