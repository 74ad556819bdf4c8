import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.allocation.models import RuleSet, RuleSetVersion
from apps.allocation.runs import selectors, services
from apps.allocation.runs.totals import preview_summary_json
from apps.reconciliation.management.commands.reconcile import period_argument
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = (
        "Allocate a month's AI cost to budget owners with the primary rule set's latest published version. "
        "Replaces the period's draft allocation (nothing changes when the inputs have not); refuses a period "
        "whose statements were issued. --preview runs the primary rule set's draft (or, without a draft, the "
        "published version) and saves nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--period", required=True, metavar="YYYY-MM")
        parser.add_argument("--preview", action="store_true", help="Compute without saving.")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")

    def handle(self, *args, org: str, period: str, preview: bool, json: bool, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        month = period_argument(period)
        try:
            if preview:
                version = self._preview_version(organization)
                result = services.allocation_preview(organization=organization, period=month, version=version)
                summary = preview_summary_json(computed=result.computed, period=month)
            else:
                run = services.allocation_run_create(organization=organization, period=month, actor=None)
                summary = selectors.run_summary_json(run=run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if json:
            self.stdout.write(_dumps(summary))
            return
        self._human(summary, preview=preview, changes=result.rows if preview else None)

    def _preview_version(self, organization) -> RuleSetVersion:
        with organization_scope(organization):
            rule_set = RuleSet.objects.filter(organization=organization, is_primary=True).first()
            if rule_set is None:
                raise ValidationError("There is no rule set to preview: create one first.")
            version = rule_set.versions.order_by("-number").first()  # the draft, when there is one, is newest
        if version is None:
            raise ValidationError(f"Rule set {rule_set.name} has no versions.")
        return version

    def _human(self, summary: dict, *, preview: bool, changes) -> None:
        what = "Preview (not saved)" if preview else "Allocated"
        self.stdout.write(
            f"{what} {summary['period']} with rule set version {summary['rule_set_version']}: "
            f"pool {summary['pool_total']}, {summary['lines']} lines"
        )
        if changes is not None:
            for row in changes:
                current = "—" if row.current is None else row.current
                label = row.code or "Unallocated"
                self.stdout.write(
                    f"  {label:<12} now {current!s:>14}  preview {row.preview!s:>14}  ({row.difference:+})"
                )
        else:
            for owner in summary["owners"]:
                self.stdout.write(f"  {owner['code']:<12} {owner['amount']:>14}")
        self.stdout.write(f"  {'Unallocated':<12} {summary['unallocated']:>14}")
        self.stdout.write(f"  inputs {summary['inputs_hash']}")


def _dumps(value) -> str:
    return json.dumps(value)
