"""Cross-tenant cases for the allocation app (tenant models only: no portal or API routes yet)."""

from django_scopes import scope

from apps.allocation.models import RuleSet, RuleSetVersion
from apps.allocation.services import rule_set_create

from . import tenant_model


def make_rule_set(world, organization) -> RuleSet:
    with scope(organization=organization):
        existing = RuleSet.objects.filter(organization=organization, name="Cross-tenant rules").first()
    return existing or rule_set_create(organization=organization, actor=None, name="Cross-tenant rules")


def make_rule_set_version(world, organization) -> RuleSetVersion:
    rule_set = make_rule_set(world, organization)
    with scope(organization=organization):
        return RuleSetVersion.objects.get(rule_set=rule_set, number=1)


tenant_model("allocation.ruleset", make_rule_set)
tenant_model("allocation.rulesetversion", make_rule_set_version)
