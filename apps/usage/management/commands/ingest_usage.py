from pathlib import Path

from apps.ingest.command import IngestFileCommand
from apps.usage.models import IngestJob
from apps.usage.services.ingest import FORMAT_CHOICES, ingest_job_create, ingest_job_summary
from apps.usage.tasks import run_ingest_job


class Command(IngestFileCommand):
    help = (
        "Ingest a usage file (canonical NDJSON/CSV, OpenAI or Anthropic usage export, LiteLLM spend logs; gzip "
        "or not). Exit 0 when the file was processed (even with rejected rows), 1 when it was refused as a whole."
    )
    format_choices = FORMAT_CHOICES
    job_model = IngestJob
    task = run_ingest_job

    def create_job(self, *, organization, file_name, stream, format):
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name=file_name,
            stream=stream,
            format=format,
            channel=IngestJob.Channel.COMMAND,
            enqueue=False,
        )
        return job

    def summarise(self, *, job) -> dict:
        return ingest_job_summary(job=job)

    def write_human(self, summary: dict, file_path: Path) -> None:
        self.stdout.write(
            f"{file_path.name}: job {summary['job']} {summary['status']}: {summary['rows_total']} rows, "
            f"{summary['accepted']} accepted, {summary['duplicates']} duplicates, {summary['rejected']} rejected; "
            f"estimated cost {summary['estimated_cost']} {summary['currency']}"
        )
        self.write_errors(summary, file_path)
