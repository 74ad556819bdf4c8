from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.allocation.rules.describe import describe_markdown
from apps.allocation.rules.io import export_json, export_yaml, version_for_export
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Print an allocation rule set version as YAML (re-importable), JSON, or Markdown (the plain-language "
        "allocation model). Without --version: the latest published version, else the draft."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version N is the rule-set version; it replaces Django's own --version flag here.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--version", dest="number", type=int, metavar="N")
        parser.add_argument("--rule-set", dest="rule_set", metavar="NAME")
        parser.add_argument("--format", choices=["yaml", "json", "markdown"], default="yaml")

    def handle(self, *args, org: str, number, rule_set, format: str, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        try:
            version = version_for_export(organization=organization, number=number, name=rule_set)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        render = {"yaml": export_yaml, "json": export_json, "markdown": describe_markdown}[format]
        self.stdout.write(render(version), ending="")
