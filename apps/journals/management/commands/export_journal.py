from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.calendar import parse_period
from apps.journals.exports import NoJournal, journal_export
from apps.journals.layouts import LAYOUT_CHOICES, LayoutError
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = (
        "Write a period's journal entries as a CSV file in an ERP's import layout (netsuite, sap, generic): the "
        "same file as the API's /journal-entries/export/ and the portal's download. Standard output by default."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--period", required=True, metavar="YYYY-MM")
        parser.add_argument("--layout", required=True, choices=LAYOUT_CHOICES)
        parser.add_argument("--output", metavar="FILE", help="Write the file here instead of standard output.")

    def handle(self, *args, org: str, period: str, layout: str, output: str | None, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        try:
            month = parse_period(period)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            with organization_scope(organization):
                export = journal_export(organization=organization, period=month, layout=layout)
        except (NoJournal, LayoutError) as exc:
            raise CommandError(str(exc)) from exc
        if output is None:
            self.stdout.write(export.text, ending="")
            return
        Path(output).write_text(export.text, encoding="utf-8", newline="")
        self.stderr.write(
            f"Wrote {export.entries} entries ({export.rows} lines) of {period} in the {layout} layout to {output}."
        )
