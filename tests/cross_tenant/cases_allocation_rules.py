"""Cross-tenant cases for the allocation rules pages (the models' cases are in cases_allocation.py)."""

from django_scopes import scope

from apps.allocation.models import RuleSetVersion
from apps.allocation.rules.services import draft_update

from . import portal_route
from .cases_allocation import make_rule_set, make_rule_set_version

ANALYST = "finance_analyst"
APPROVER = "finance_admin"
RULE = {"kind": "direct", "name": "Cross-tenant rule", "conditions": [], "owner": "CC-XT"}


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _rule_set(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_rule_set(world, organization).pk}


def _version(world, organization) -> dict:
    """Version 1 of the organisation's rule set: a draft holding one rule (so rule 1 exists)."""
    version = make_rule_set_version(world, organization)
    with scope(organization=organization):
        version = RuleSetVersion.objects.get(pk=version.pk)
    if not version.document["rules"]:
        version, _check = draft_update(draft=version, document={**version.document, "rules": [RULE]}, actor=None)
    return {"org_slug": organization.slug, "pk": version.rule_set_id, "number": version.number}


def _rule(world, organization) -> dict:
    return {**_version(world, organization), "position": 1}


portal_route("rules:list", _org)
portal_route("rules:create", _org, role=ANALYST)
portal_route("rules:detail", _rule_set)
portal_route("rules:make_primary", _rule_set, method="post", role=APPROVER)
portal_route("rules:compare", _rule_set)
portal_route("rules:version", _version)
portal_route("rules:download", lambda world, organization: {**_version(world, organization), "fmt": "md"})
portal_route("rules:draft_start", _version, method="post", role=ANALYST)
portal_route("rules:publish", _version, method="post", role=APPROVER)
portal_route(
    "rules:rule_add", lambda world, organization: {**_version(world, organization), "kind": "direct"}, role=ANALYST
)
portal_route("rules:rule_edit", _rule, role=ANALYST)
portal_route("rules:rule_move", _rule, method="post", role=ANALYST)
portal_route("rules:rule_delete", _rule, method="post", role=ANALYST)
portal_route("rules:true_up", _version, role=ANALYST)
portal_route("rules:yaml", _version, role=ANALYST)
