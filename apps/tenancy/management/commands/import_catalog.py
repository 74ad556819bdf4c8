"""Import a catalog file into an organisation: validate every row of every section first, write nothing
if any is invalid, otherwise apply every section in one transaction."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.tenancy import catalog
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Import cost centres, budgets, taxonomy and price overrides from a YAML/JSON catalog document or "
        "one section as CSV. Everything is validated first; nothing is written when any row is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="A .yaml/.yml, .json or .csv file.")
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organisation to import into.")
        parser.add_argument(
            "--section", choices=catalog.SECTION_NAMES, help="Only this section (required for a CSV file)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and count what would change; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the outcome as one JSON object.")

    def handle(self, *args, **options):
        path = options["file"]
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: the file is not UTF-8 text.") from exc

        try:
            parsed = catalog.catalog_file_read(text=text, fmt=catalog.format_of(path), section=options["section"])
        except catalog.CatalogFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc

        if parsed.errors:
            outcome = catalog.CatalogImport(errors=parsed.errors, counts={}, written=False)
        else:
            outcome = catalog.catalog_import(
                organization=organization, sections=parsed.sections, actor=None, dry_run=options["dry_run"]
            )

        if options["json"]:
            self._print_json(path, organization, options["dry_run"], outcome)
        else:
            self._print_text(path, options["dry_run"], outcome)
        if outcome.errors:
            raise CommandError(f"{path}: {len(outcome.errors)} error(s); nothing was imported.")

    def _print_text(self, path, dry_run, outcome):
        for error in outcome.errors:
            self.stderr.write(catalog.error_line(path, error))
        if outcome.errors:
            return
        for name, counts in outcome.counts.items():
            self.stdout.write(
                f"{name}: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"
            )
        if dry_run:
            self.stdout.write("Dry run: these are the changes an import would make; nothing was written.")

    def _print_json(self, path, organization, dry_run, outcome):
        payload = {
            "file": path,
            "organization": organization.slug,
            "dry_run": dry_run,
            "ok": not outcome.errors,
            "written": outcome.written,
            "errors": [{"row": label, "field": field, "message": message} for label, field, message in outcome.errors],
            "sections": outcome.counts,
        }
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
