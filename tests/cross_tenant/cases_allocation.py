"""Cross-tenant cases for the allocation app."""

from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun, RuleSet, RuleSetVersion
from apps.allocation.rules.services import rule_set_create
from tests.scenarios import allocated

from . import tenant_model


def make_rule_set(world, organization) -> RuleSet:
    with scope(organization=organization):
        existing = RuleSet.objects.filter(organization=organization, name="Cross-tenant rules").first()
    return existing or rule_set_create(organization=organization, actor=None, name="Cross-tenant rules")


def make_rule_set_version(world, organization) -> RuleSetVersion:
    rule_set = make_rule_set(world, organization)
    with scope(organization=organization):
        return RuleSetVersion.objects.get(rule_set=rule_set, number=1)


def make_allocation_run(world, organization) -> AllocationRun:
    """One allocated month per organisation (October 2026), made on first use."""
    with scope(organization=organization):
        existing = AllocationRun.objects.filter(organization=organization).first()
    return existing or allocated(organization).run


def make_allocation_line(world, organization) -> AllocationLine:
    run = make_allocation_run(world, organization)
    with scope(organization=organization):
        return AllocationLine.objects.filter(run=run).exclude(owner=None).order_by("position").first()


tenant_model("allocation.ruleset", make_rule_set)
tenant_model("allocation.rulesetversion", make_rule_set_version)
tenant_model("allocation.allocationrun", make_allocation_run)
tenant_model("allocation.allocationline", make_allocation_line)
