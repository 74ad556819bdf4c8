from celery import shared_task

from .services.ingest import ingest_job_run


@shared_task(name="usage.run_ingest_job", acks_late=True)
def run_ingest_job(job_id: int) -> dict:
    job = ingest_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "accepted": job.accepted}
