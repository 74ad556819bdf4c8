from apps.ingest.command import RetryJobCommand
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.services.ingest import invoice_ingest_summary
from apps.invoices.tasks import run_invoice_ingest


class Command(RetryJobCommand):
    help = "Retry a failed or interrupted invoice import and run it now (it reads the file again). Exit 0 on success."
    job_model = InvoiceIngestJob
    task = run_invoice_ingest

    def summarise(self, *, job) -> dict:
        return invoice_ingest_summary(job=job)
