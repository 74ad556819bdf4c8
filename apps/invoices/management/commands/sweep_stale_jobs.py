"""Here because invoices already build on usage's ingest machinery: one command sweeps both kinds of job."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from apps.invoices.models import InvoiceIngestJob
from apps.usage.models import IngestJob
from apps.usage.services.jobs import jobs_interrupt_stale


class Command(BaseCommand):
    help = (
        "Mark running usage and invoice ingest jobs whose worker stopped reporting (no heartbeat for "
        "INGEST_STALE_AFTER_MINUTES, or --minutes) as interrupted, so they can be retried. The same runs every "
        "minute under celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=None, help="Override INGEST_STALE_AFTER_MINUTES.")

    def handle(self, *args, minutes, **options):
        stale_after = timedelta(minutes=minutes) if minutes is not None else None
        for label, model, prefix in (("usage", IngestJob, "usage"), ("invoice", InvoiceIngestJob, "invoices")):
            for job in jobs_interrupt_stale(job_model=model, audit_prefix=prefix, stale_after=stale_after):
                self.stdout.write(f"{label} job {job.pk} ({job.organization.slug}, {job.file_name}): interrupted")
