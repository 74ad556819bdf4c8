from pathlib import Path

from apps.ingest.command import IngestFileCommand
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.parsers import FORMAT_CHOICES
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_summary
from apps.invoices.tasks import run_invoice_ingest


class Command(IngestFileCommand):
    help = (
        "Ingest a provider invoice or cost report (FOCUS CSV, OpenAI Costs pages, Anthropic cost report, AWS CUR "
        "2.0, generic CSV; gzip or not). Exit 0 when the file was processed (even with rejected rows), 1 when it "
        "was refused as a whole (nothing written)."
    )
    format_choices = FORMAT_CHOICES
    job_model = InvoiceIngestJob
    task = run_invoice_ingest

    def create_job(self, *, organization, file_name, stream, format):
        job, _ = invoice_ingest_create(
            organization=organization,
            actor=None,
            file_name=file_name,
            stream=stream,
            format=format,
            channel=InvoiceIngestJob.Channel.COMMAND,
            enqueue=False,
        )
        return job

    def summarise(self, *, job) -> dict:
        return invoice_ingest_summary(job=job)

    def write_human(self, summary: dict, file_path: Path) -> None:
        self.stdout.write(
            f"{file_path.name}: {summary['status']}: {summary['duplicates']} duplicates, {summary['rejected']} rejected"
        )
        for invoice in summary["invoices"]:
            self.stdout.write(
                f"  {invoice['provider']} {invoice['billing_period']}: {invoice['total']} {invoice['currency']} "
                f"({invoice['lines']} lines)"
            )
        self.write_errors(summary, file_path)
