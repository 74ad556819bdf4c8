from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.allocation.rules.io import RulesFileError, import_rules, parse_text
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Import an allocation rule set from a YAML or JSON file as the draft of its rule set. With --publish the "
        "draft is published as the next version, or nothing is written and every error is listed (exit 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--publish", action="store_true", help="Publish the imported rules as a new version.")

    def handle(self, *args, file: str, org: str, publish: bool, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{file}: cannot read the file ({exc.strerror}).") from exc
        try:
            result = import_rules(
                organization=organization, raw=parse_text(text, file_name=path.name), actor=None, publish=publish
            )
        except RulesFileError as exc:
            for where, fld, message in exc.problems:
                self.stderr.write(f"{file}: {where}: {fld}: {message}")
            raise CommandError(f"{file}: {len(exc.problems)} error(s); nothing was written.", returncode=1) from exc
        except ValidationError as exc:
            raise CommandError(f"{file}: {' '.join(exc.messages)}") from exc
        for where, fld, message in result.warnings:
            self.stderr.write(f"{file}: warning: {where}: {fld}: {message}")
        version = result.version
        if result.published:
            self.stdout.write(f"{version.rule_set.name}: published version {version.number} ({version.sha256[:12]}).")
            return
        self.stdout.write(f"{version.rule_set.name}: draft version {version.number} saved.")
        for where, fld, message in result.errors:
            self.stdout.write(f"{file}: {where}: {fld}: {message}")
        if result.errors:
            self.stdout.write(f"{len(result.errors)} problem(s) to fix before this draft can be published.")
