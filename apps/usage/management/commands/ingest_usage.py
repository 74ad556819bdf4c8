import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from apps.tenancy.models import Organization
from apps.usage.models import IngestJob
from apps.usage.services.ingest import FORMAT_CHOICES, ingest_job_create, ingest_job_summary
from apps.usage.tasks import run_ingest_job


class Command(BaseCommand):
    help = (
        "Ingest a usage file (canonical NDJSON/CSV, OpenAI or Anthropic usage export, LiteLLM spend logs; gzip "
        "or not). Exit 0 when the file was processed (even with rejected rows), 1 when it was refused as a whole."
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
                job, _ = ingest_job_create(
                    organization=organization,
                    actor=None,
                    file_name=file_path.name,
                    stream=stream,
                    format=format,
                    channel=IngestJob.Channel.COMMAND,
                    enqueue=False,
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        # Through the Celery task, run here and now so the command can report the outcome.
        run_ingest_job.apply(args=[job.pk])
        with scope(organization=organization):
            job.refresh_from_db()
            summary = ingest_job_summary(job)
        if json:
            self.stdout.write(_json_dumps(summary))
        else:
            self._human(summary, file_path)
        if job.status != IngestJob.Status.SUCCEEDED:
            if not json:
                self.stderr.write(f"{file_path}: refused: {job.error_message}")
            sys.exit(1)

    def _human(self, summary: dict, file_path: Path) -> None:
        self.stdout.write(
            f"{file_path.name}: job {summary['job']} {summary['status']}: {summary['rows_total']} rows, "
            f"{summary['accepted']} accepted, {summary['duplicates']} duplicates, {summary['rejected']} rejected; "
            f"estimated cost {summary['estimated_cost']} {summary['currency']}"
        )
        for error in summary["errors"][:50]:
            self.stdout.write(f"  {file_path.name}:{error['line']}: {error['field']}: {error['message']}")
        if len(summary["errors"]) > 50:
            self.stdout.write(f"  … {len(summary['errors']) - 50} more errors (see the job page or --json)")


def _json_dumps(value) -> str:
    return json.dumps(value)
