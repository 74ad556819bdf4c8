from apps.ingest.command import RetryJobCommand
from apps.usage.models import IngestJob
from apps.usage.services.ingest import ingest_job_summary
from apps.usage.tasks import run_ingest_job


class Command(RetryJobCommand):
    help = (
        "Retry a failed or interrupted usage ingest job and run it now: it resumes from its checkpoint (rows "
        "committed by earlier attempts are not stored or counted again). Exit 0 when it succeeds."
    )
    job_model = IngestJob
    task = run_ingest_job

    def summarise(self, *, job) -> dict:
        return ingest_job_summary(job=job)
