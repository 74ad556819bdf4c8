from celery import shared_task

from .services import job_run, jobs_interrupt_stale


@shared_task(name="jobs.run_job", acks_late=True)
def run_job(organization_id: int, job_id: int) -> dict:
    """Run one job (``apps.jobs.services.job_run``): safe to deliver twice, a finished job is left alone."""
    job = job_run(organization_id=organization_id, job_id=job_id)
    return {"job": job.pk, "status": job.status}


@shared_task(name="jobs.sweep_stale")
def sweep_stale() -> list[int]:
    """Scheduled (CELERY_BEAT_SCHEDULE): running jobs whose worker went silent are marked interrupted."""
    return [job.pk for job in jobs_interrupt_stale()]
