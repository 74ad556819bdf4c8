import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from apps.invoices.models import InvoiceIngestJob
from apps.invoices.parsers import FORMAT_CHOICES
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_summary
from apps.invoices.tasks import run_invoice_ingest
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Ingest a provider invoice or cost report (FOCUS CSV, OpenAI Costs pages, Anthropic cost report, AWS CUR "
        "2.0, generic CSV; gzip or not). Exit 0 when the file was processed (even with rejected rows), 1 when it "
        "was refused as a whole (nothing written)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--format", default="auto", choices=FORMAT_CHOICES)
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")

    def handle(self, *args, path, org, format, json: bool, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            with file_path.open("rb") as stream:
                job, _ = invoice_ingest_create(
                    organization=organization,
                    actor=None,
                    file_name=file_path.name,
                    stream=stream,
                    format=format,
                    channel=InvoiceIngestJob.Channel.COMMAND,
                    enqueue=False,
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        # Through the Celery task, run here and now so the command can report the outcome.
        run_invoice_ingest.apply(args=[job.pk])
        with scope(organization=organization):
            job.refresh_from_db()
            summary = invoice_ingest_summary(job)
        if json:
            self.stdout.write(_dumps(summary))
        else:
            self._human(summary, file_path)
        if job.status != InvoiceIngestJob.Status.SUCCEEDED:
            if not json:
                self.stderr.write(f"{file_path}: refused, nothing was written: {job.error_message}")
            sys.exit(1)

    def _human(self, summary: dict, file_path: Path) -> None:
        self.stdout.write(
            f"{file_path.name}: {summary['status']}: {summary['duplicates']} duplicates, {summary['rejected']} rejected"
        )
        for invoice in summary["invoices"]:
            self.stdout.write(
                f"  {invoice['provider']} {invoice['billing_period']}: {invoice['total']} {invoice['currency']} "
                f"({invoice['lines']} lines)"
            )
        for error in summary["errors"][:50]:
            self.stdout.write(f"  {file_path.name}:{error['line']}: {error['field']}: {error['message']}")


def _dumps(value) -> str:
    return json.dumps(value)
