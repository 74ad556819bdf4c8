import json
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.calendar import parse_period
from apps.reconciliation.formatting import money
from apps.reconciliation.selectors import run_conversion, run_lines, run_summary
from apps.reconciliation.services import reconciliation_run_create
from apps.tenancy.models import Organization


def period_argument(text: str) -> date:
    """``--period YYYY-MM`` as the month's first day, or the command's error."""
    try:
        return parse_period(text)
    except ValidationError:
        raise CommandError(f"--period {text!r}: use YYYY-MM, e.g. 2026-10.") from None


class Command(BaseCommand):
    help = (
        "Reconcile a month: usage estimates (the daily cube) against the month's provider invoices, per provider, "
        "model and cost source, with tagging gaps and platform overhead. Stores a new run every time (history is "
        "kept), so running it again after new data is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--period", required=True, metavar="YYYY-MM")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")

    def handle(self, *args, org: str, period: str, json: bool, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        month = period_argument(period)
        try:
            run = reconciliation_run_create(organization=organization, period=month, actor=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        summary = run_summary(run=run)
        if json:
            self.stdout.write(_dumps(summary))
        else:
            self._human(run, summary)

    def _human(self, run, summary: dict) -> None:
        self.stdout.write(
            f"{summary['period']}: run #{run.pk}, {run.get_status_display().lower()} "
            f"(tolerance {summary['tolerance_pct']}%), amounts in {run.currency}"
        )
        converted = run_conversion(run=run)
        for currency in converted.currencies if converted else []:
            self.stdout.write(f"  converted: {currency.text}")
        for row in summary["providers"]:
            flag = "ok " if row["within_tolerance"] else "OUT"
            pct = f"{row['variance_pct']}%" if row["variance_pct"] is not None else "n/a"
            self.stdout.write(
                f"  {flag} {row['provider']:<14} estimated {row['estimated']:>14} invoiced {row['invoiced']:>14} "
                f"variance {row['variance']:>12} ({pct})"
            )
        for line in run_lines(run=run, level="provider").exclude(note=""):
            self.stdout.write(f"  note: {line.provider}: {line.note}")
        gaps = ", ".join(f"{key} {figures['requests']}" for key, figures in run.untagged.items())
        self.stdout.write(f"  requests lacking tags: {gaps or 'none'}")
        self.stdout.write(f"  platform overhead: {summary['platform_overhead_pct']}%")
        self.stdout.write(f"  unallocated (no team or no cost centre): {money(run.unallocated_nano, run.currency)}")


def _dumps(value) -> str:
    return json.dumps(value)
