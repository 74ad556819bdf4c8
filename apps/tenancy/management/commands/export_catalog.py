"""Write an organisation's catalog (cost centres, budgets, taxonomy, price overrides) as one YAML or JSON
document, or one section as CSV. The output imports back with ``import_catalog``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.tenancy import catalog
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Export an organisation's catalog as YAML (default) or JSON, or one section as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organisation's slug.")
        parser.add_argument("--format", choices=catalog.FORMATS, default="yaml")
        parser.add_argument(
            "--section", choices=catalog.SECTION_NAMES, help="Only this section (required for --format csv)."
        )
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        fmt, section = options["format"], options["section"]
        if fmt == "csv" and section is None:
            raise CommandError("CSV holds one section: add --section NAME.")
        try:
            if section is not None:
                catalog.catalog_section(section)  # fail before anything is read
            else:
                for name in sorted(set(catalog.SECTION_NAMES) - set(catalog.available_sections())):
                    self.stderr.write(f"warning: the {name} section is not available here and is left out.")
            if fmt == "csv":
                rows = catalog.catalog_export(organization=organization, sections=[section])[section]
                text = catalog.catalog_section(section).rows_to_csv(rows)
            else:
                document = catalog.catalog_export(
                    organization=organization, sections=[section] if section is not None else None
                )
                text = catalog.document_dump(document, fmt=fmt)
        except catalog.SectionUnavailable as exc:
            raise CommandError(str(exc)) from exc

        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote the catalog of {organization.slug} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
