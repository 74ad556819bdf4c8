"""The plain-language rendering of a rule-set version."""

import pytest

from apps.allocation.rules.describe import describe_lines, describe_markdown
from apps.allocation.rules.services import draft_publish
from tests.factories.allocation import allocation_catalog, rule_set_with_draft

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "rules": [
        {
            "kind": "direct",
            "name": "Search team",
            "conditions": [{"field": "tag:team", "op": "equals", "value": "search"}],
            "owner": "CC-1101",
        },
        {"kind": "tag_map", "name": "Teams", "dimension": "team", "mapping": {"ads": "CC-1201"}},
        {
            "kind": "shared_pool",
            "name": "Platform gateway",
            "conditions": [{"field": "tag:feature", "op": "equals", "value": "gateway-healthcheck"}],
            "method": "proportional",
            "targets": [{"owner": "CC-1101"}, {"owner": "CC-1201"}, {"owner": "CC-1401"}],
        },
        {
            "kind": "direct",
            "name": "Retries on OpenAI",
            "conditions": [
                {"field": "provider", "op": "equals", "value": "openai"},
                {"field": "is_retry", "op": "equals", "value": True},
            ],
            "owner": "CC-1301",
        },
        {
            "kind": "shared_pool",
            "name": "Chat usage",
            "conditions": [{"field": "tag:feature", "op": "equals", "value": "chat"}],
            "method": "usage",
            "usage_basis": "tokens",
            "targets": [{"owner": "CC-1101", "weight_pct": "150"}, {"owner": "CC-1201"}],
        },
        {
            "kind": "shared_pool",
            "name": "Leftovers",
            "source": "unallocated",
            "method": "fixed",
            "targets": [{"owner": "CC-1101", "weight_pct": "62.5"}, {"owner": "CC-1201", "weight_pct": "37.5"}],
        },
    ],
    "true_up": {"mode": "usage_only", "central_owner": "CC-1301"},
}


def test_each_rule_reads_as_a_sentence(world):
    organization = world.org("a")
    allocation_catalog(organization)
    version = rule_set_with_draft(organization, DOCUMENT)
    assert describe_lines(version) == [
        "1. Requests tagged team=search go to CC-1101 Search.",
        "2. Requests are charged by their team tag: team=ads → CC-1201 Ads.",
        "3. Platform gateway cost (feature=gateway-healthcheck) is shared among CC-1101 Search, CC-1201 Ads and "
        "CC-1401 Finance in proportion to their direct spend.",
        "4. Requests with provider=openai and retries go to CC-1301 Platform.",
        "5. Chat usage cost (feature=chat) is shared among CC-1101 Search and CC-1201 Ads in proportion to "
        "their tokens, weighted CC-1101 150%.",
        "6. Cost that no earlier rule claims is split in fixed shares: CC-1101 Search 62.5%, CC-1201 Ads 37.5%.",
        "Whatever no rule claims stays Unallocated.",
        "Invoice true-up: each provider's difference between invoice and estimate is booked to CC-1301 Platform; "
        "the others pay their estimated usage only.",
    ]


def test_markdown_is_the_documented_allocation_model(world):
    organization = world.org("a")
    allocation_catalog(organization)
    document = {
        "rules": [{"kind": "tag_map", "name": "Teams", "dimension": "team"}],
        "true_up": {"mode": "full_cost", "central_owner": None},
    }
    version = draft_publish(draft=rule_set_with_draft(organization, document), actor=world.user("a"))
    markdown = describe_markdown(version)
    assert markdown == (
        "# Allocation model: Allocation rules, version 1\n"
        "\n"
        f"Organisation: {organization.name}. Status: published {version.published_at:%Y-%m-%d %H:%M} UTC by "
        f"{world.user('a').get_username()}. Rules fingerprint (SHA-256): `{version.sha256}`.\n"
        "\n"
        "## Rules, applied in order\n"
        "\n"
        "The first rule that matches a request claims its cost.\n"
        "\n"
        "1. Requests are charged by their team tag, to the budget owner linked to each team value in the taxonomy.\n"
        "\n"
        "## Unallocated\n"
        "\n"
        "Whatever no rule claims stays Unallocated.\n"
        "\n"
        "## Invoice true-up\n"
        "\n"
        "Invoice true-up: each provider's difference between invoice and estimate is spread over the budget owners "
        "in proportion to their estimated cost with that provider, so charges tie to the invoice.\n"
    )
