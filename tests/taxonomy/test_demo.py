import pytest
from django.core.management import call_command
from django_scopes import scope

from apps.audit.services import audit_chain_verify
from apps.owners.demo import TEAM_OF_COST_CENTRE
from apps.taxonomy.demo import FEATURES_BY_TEAM, TEAM_COST_CENTRES
from apps.taxonomy.models import TagDimension, TagValue
from apps.taxonomy.services import tag_normaliser_for
from apps.tenancy.models import Organization

pytestmark = pytest.mark.django_db


def test_team_values_match_the_demo_cost_centres():
    assert {team: code for code, team in TEAM_OF_COST_CENTRE.items()} == TEAM_COST_CENTRES
    features = [f for team in FEATURES_BY_TEAM.values() for f in team]
    assert len(features) == len(set(features)) == 41
    assert set(FEATURES_BY_TEAM) == set(TEAM_COST_CENTRES)


def test_seed_demo_builds_the_taxonomy_in_both_orgs_idempotently():
    call_command("seed_demo")
    acme = Organization.objects.get(slug="acme")
    with scope(organization=acme):
        before = (TagDimension.objects.count(), TagValue.objects.count())
    call_command("seed_demo")
    for organization in Organization.objects.filter(slug__in=["acme", "globex"]):
        with scope(organization=organization):
            dimensions = {d.key: d.required for d in TagDimension.objects.all()}
            assert dimensions == {
                "team": True,
                "feature": True,
                "workspace": True,
                "environment": True,
                "provider": True,
                "customer": False,
            }
            owners = dict(TagValue.objects.filter(dimension__key="team").values_list("value", "owner__code"))
            assert owners == TEAM_COST_CENTRES
            workspaces = set(TagValue.objects.filter(dimension__key="workspace").values_list("value", flat=True))
            assert workspaces == {
                f"{organization.slug}-prod",
                f"{organization.slug}-staging",
                f"{organization.slug}-dev",
            }
            feature = TagValue.objects.select_related("owner").get(dimension__key="feature", value="ticket-triage")
            assert feature.owner.code == "CC-1201"
        assert audit_chain_verify(organization=organization).ok
    with scope(organization=acme):
        assert (TagDimension.objects.count(), TagValue.objects.count()) == before == (6, 12 + 41 + 3 + 3 + 5)

    normaliser = tag_normaliser_for(organization=acme)
    result = normaliser.normalise(
        {
            "team": "Search",
            "feature": "answer-summaries",
            "workspace": "acme-prod",
            "environment": "Prod",
            "provider": "Bedrock",
            "customer": "Cust_042",
        }
    )
    assert result.tags == {
        "customer": "Cust_042",
        "environment": "production",
        "feature": "answer-summaries",
        "provider": "aws-bedrock",
        "team": "search",
        "workspace": "acme-prod",
    }
    assert (result.missing_required, result.unknown) == ((), ())
    assert normaliser.normalise({"environment": "Production", "provider": "OpenAI"}).tags == {
        "environment": "production",
        "provider": "openai",
    }
