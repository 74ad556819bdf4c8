"""Demo allocation: acme and globex get a published rule set (platform gateway and observability shared out,
the team tag map through the taxonomy's owner links, full-cost true-up) and every month with usage is
allocated. globex's runs are in EUR: its USD estimates are converted at the ECB rates of the usage days, so
its November (after the last shipped rate, 2026-10-30) is refused with the missing rates named until newer
rates are loaded. Idempotent: an existing rule set or draft run is left as it is."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models.functions import TruncMonth

from apps.tenancy.scoping import organization_scope
from apps.usage.models import DailyUsage

from .models import AllocationRun, RuleSet
from .rules.services import draft_publish, draft_update, rule_set_create
from .runs.selectors import run_owner_totals
from .runs.services import allocation_run_create

RULE_SET_NAMES = {"acme": "Acme allocation", "globex": "Globex allocation"}
BUSINESS_OWNERS = [
    "CC-1101",
    "CC-1102",
    "CC-1201",
    "CC-1202",
    "CC-1301",
    "CC-1302",
    "CC-2101",
    "CC-2102",
    "CC-2103",
    "CC-2104",
]

DOCUMENT = {
    "true_up": {"mode": "full_cost", "central_owner": None},
    "rules": [
        {
            "kind": "shared_pool",
            "name": "Platform gateway",
            "conditions": [{"field": "tag:team", "op": "equals", "value": "platform"}],
            "source": "conditions",
            "method": "proportional",
            "targets": [{"owner": code} for code in BUSINESS_OWNERS],
        },
        {
            "kind": "shared_pool",
            "name": "Observability",
            "conditions": [{"field": "tag:team", "op": "equals", "value": "observability"}],
            "source": "conditions",
            "method": "usage",
            "usage_basis": "requests",
            "targets": [{"owner": code} for code in BUSINESS_OWNERS],
        },
        {"kind": "tag_map", "name": "Teams", "dimension": "team", "conditions": []},
    ],
}


def seed_demo(*, organization, stdout) -> None:
    name = RULE_SET_NAMES.get(organization.slug)
    if name is None:
        stdout.write(f"  {organization.slug}: no allocation rules in the demo")
        return
    with organization_scope(organization):
        rule_set = RuleSet.objects.filter(organization=organization, name=name).first()
    if rule_set is None:
        rule_set = rule_set_create(
            organization=organization,
            actor=None,
            name=name,
            description="Teams pay for their own requests; platform and observability are shared out.",
        )
        with organization_scope(organization):
            draft = rule_set.versions.get(status="draft")
        draft, _ = draft_update(draft=draft, document=DOCUMENT, actor=None)
        draft_publish(draft=draft, actor=None)
        stdout.write(f"  {organization.slug}: published rule set {name} v1")
    with organization_scope(organization):
        months = sorted(
            {
                row.date() if hasattr(row, "date") else row
                for row in DailyUsage.objects.annotate(month=TruncMonth("day"))
                .values_list("month", flat=True)
                .distinct()
            }
        )
        done = set(AllocationRun.objects.values_list("period", flat=True))
    for month in months:
        month = date(month.year, month.month, 1)
        if month in done:
            stdout.write(f"  {organization.slug}: {month:%Y-%m} already allocated")
            continue
        try:
            run = allocation_run_create(organization=organization, period=month, actor=None)
        except ValidationError as refused:
            # A month whose exchange rates are not loaded yet: shown as refused, never allocated at 1.0.
            stdout.write(f"  {organization.slug}: {month:%Y-%m} not allocated: {' '.join(refused.messages)}")
            continue
        unallocated = next((row.amount for row in run_owner_totals(run=run) if not row.code), 0)
        stdout.write(
            f"  {organization.slug}: allocated {month:%Y-%m}: {run.line_count} lines, "
            f"unallocated {unallocated} {run.currency} (footed with the owners, as the allocation page shows it)"
        )
