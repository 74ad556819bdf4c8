from celery import shared_task
from django.utils import timezone

from apps.ingest.jobs import job_kinds, jobs_interrupt_stale, jobs_purge_payloads, payloads_purge_orphans

from .models import IngestJob
from .partitions import MONTHS_AHEAD, ensure_months_ahead
from .services.ingest import ingest_job_run


@shared_task(name="usage.run_ingest_job", acks_late=True)
def run_ingest_job(job_id: int) -> dict:
    job = ingest_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "accepted": job.accepted}


@shared_task(name="usage.sweep_stale_jobs")
def sweep_stale_jobs() -> list[int]:
    """Scheduled (CELERY_BEAT_SCHEDULE): mark running usage jobs with a stale heartbeat as interrupted."""
    return [job.pk for job in jobs_interrupt_stale(job_model=IngestJob, audit_prefix="usage")]


@shared_task(name="usage.purge_ingest_payloads")
def purge_ingest_payloads() -> dict:
    """Scheduled (CELERY_BEAT_SCHEDULE): delete the received bytes of every kind of ingest job that can no
    longer be re-run, or whose retention (INGEST_PAYLOAD_RETENTION_DAYS) ran out (one bounded batch a kind),
    and the files that no job names, a day after they were written."""
    deleted = {kind.label: [job.pk for job in jobs_purge_payloads(job_model=kind.job_model)[0]] for kind in job_kinds()}
    deleted["orphans"] = payloads_purge_orphans()
    return deleted


@shared_task(name="usage.create_usage_partitions")
def create_usage_partitions() -> list[str]:
    """Scheduled (CELERY_BEAT_SCHEDULE): make the usage table's partitions of this month and the next
    MONTHS_AHEAD months (PostgreSQL; nothing elsewhere). Idempotent: returns the partitions it made."""
    return ensure_months_ahead(today=timezone.now().date(), ahead=MONTHS_AHEAD)
