"""The retention of received upload bodies, for every kind of ingest job registered in ``apps.ingest.jobs``
(usage's and invoices'), so usage does not import invoices."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.ingest.jobs import job_kinds, jobs_purge_payloads, payloads_purge_orphans


class Command(BaseCommand):
    help = (
        "Delete the received files of ingest jobs that can no longer be re-run (succeeded, refused), and of "
        "failed or interrupted ones that stopped more than INGEST_PAYLOAD_RETENTION_DAYS (or --days) ago; "
        "each job records when (a retry then asks for a new upload), expiries are audited. At most --batch "
        "jobs of each kind a pass; --all passes until none is due. Files that no job names (a receipt that never "
        "committed) are deleted a day after they were written. Safe to run again. The same runs every "
        "hour under celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Override INGEST_PAYLOAD_RETENTION_DAYS.")
        parser.add_argument("--batch", type=int, default=500, help="Jobs of each kind a pass (default 500).")
        parser.add_argument("--all", action="store_true", help="Pass again until nothing is due.")

    def handle(self, *args, days, batch, all, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        days = settings.INGEST_PAYLOAD_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days cannot be negative.")
        retention = timedelta(days=days)
        for kind in job_kinds():
            total = 0
            while True:
                purged, more = jobs_purge_payloads(job_model=kind.job_model, retention=retention, batch=batch)
                total += len(purged)
                for job in purged:
                    self.stdout.write(f"{kind.label} job {job.pk} ({job.organization.slug}, {job.file_name}): deleted")
                if not (all and more and purged):
                    break
            note = " (more are due: run again, or with --all)" if more and not all else ""
            self.stdout.write(f"{kind.label}: {total} received file(s) deleted{note}")
        orphans = payloads_purge_orphans(batch=batch)
        self.stdout.write(f"{len(orphans)} file(s) that no job names deleted (older than a day)")
