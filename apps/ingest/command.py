"""The shared body of the ``ingest_*`` commands (usage and invoices): find the organisation and the file,
receive it, run the job's Celery task here and now, print its summary (human or exactly one JSON
object) and exit 1 when the file was refused as a whole."""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.limits import LimitExceeded, capped
from apps.ingest.jobs import job_retry
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class IngestFileCommand(BaseCommand):
    format_choices: tuple[str, ...] = ()
    job_model = None  # the app's ingest job model (Status, Channel)
    task = None  # the Celery task that runs a job by id

    def create_job(self, *, organization, file_name: str, stream, format: str):
        """Receive the file through the app's service; return the job."""
        raise NotImplementedError

    def summarise(self, *, job) -> dict:
        raise NotImplementedError

    def write_human(self, summary: dict, file_path: Path) -> None:
        raise NotImplementedError

    def stdin_bytes(self):
        return sys.stdin.buffer

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file, or - to read standard input (capped at INGEST_MAX_UPLOAD_MB).")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--format", default="auto", choices=self.format_choices)
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")

    def handle(self, *args, path, org, format, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        file_path = Path("stdin" if path == "-" else path)
        if path != "-" and not file_path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            if path == "-":
                # Bytes piped in come from elsewhere, like an upload: the same cap applies.
                stream = capped(
                    self.stdin_bytes(),
                    max_bytes=settings.INGEST_MAX_UPLOAD_BYTES,
                    what="The input",
                    limit="INGEST_MAX_UPLOAD_MB",
                )
                job = self.create_job(organization=organization, file_name="stdin", stream=stream, format=format)
            else:
                with file_path.open("rb") as stream:
                    job = self.create_job(
                        organization=organization, file_name=file_path.name, stream=stream, format=format
                    )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except LimitExceeded as exc:
            raise CommandError(f"{path}: refused, nothing was written: {exc.message}") from exc
        # Through the Celery task, run here and now so the command can report the outcome.
        self.task.apply(args=[job.pk])
        with organization_scope(organization):
            job.refresh_from_db()
            summary = self.summarise(job=job)
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.write_human(summary, file_path)
        if job.status != self.job_model.Status.SUCCEEDED:
            if not options["json"]:
                self.stderr.write(f"{file_path}: refused, nothing was written: {job.error_message}")
                if job.format == "auto":
                    # Detection failed. The job's message is worded for every channel; here the way to
                    # choose a format is the option.
                    self.stderr.write("Pass --format to name the file's format.")
            sys.exit(1)

    def write_errors(self, summary: dict, file_path: Path, limit: int = 50) -> None:
        for error in summary["errors"][:limit]:
            self.stdout.write(f"  {file_path.name}:{error['line']}: {error['field']}: {error['message']}")
        if len(summary["errors"]) > limit:
            self.stdout.write(f"  … {len(summary['errors']) - limit} more errors (see the job page or --json)")


class RetryJobCommand(BaseCommand):
    """Retry a failed or interrupted ingest job and run it here and now, printing its summary like the
    ingest command (exit 1 unless it succeeds)."""

    job_model = None
    task = None

    def summarise(self, *, job) -> dict:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("job", type=int, help="The job's id.")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object.")

    def handle(self, *args, job, org, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation with slug {org!r}.")
        with organization_scope(organization):
            found = self.job_model.objects.filter(pk=job).first()
            if found is None:
                raise CommandError(f"No job {job} in {org}.")
            try:
                job_retry(job=found, actor=None, enqueue=False)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        self.task.apply(args=[found.pk])
        with organization_scope(organization):
            found.refresh_from_db()
            summary = self.summarise(job=found)
        self.stdout.write(json.dumps(summary) if options["json"] else f"job {found.pk}: {summary['status']}")
        if found.status != self.job_model.Status.SUCCEEDED:
            sys.exit(1)
