"""One command sweeps every kind of ingest job registered in ``apps.ingest.jobs`` (usage's and invoices', each
from its AppConfig.ready()), so usage does not import invoices."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from apps.ingest.jobs import job_kinds, jobs_interrupt_stale


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
        for kind in job_kinds():
            for job in jobs_interrupt_stale(
                job_model=kind.job_model, audit_prefix=kind.audit_prefix, stale_after=stale_after
            ):
                self.stdout.write(f"{kind.label} job {job.pk} ({job.organization.slug}, {job.file_name}): interrupted")
