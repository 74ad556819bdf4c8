from celery import shared_task

from apps.ingest.jobs import jobs_interrupt_stale

from .models import InvoiceIngestJob
from .services.ingest import invoice_ingest_run


@shared_task(name="invoices.run_invoice_ingest", acks_late=True)
def run_invoice_ingest(job_id: int) -> dict:
    job = invoice_ingest_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "accepted": job.accepted}


@shared_task(name="invoices.sweep_stale_jobs")
def sweep_stale_jobs() -> list[int]:
    """Scheduled (CELERY_BEAT_SCHEDULE): mark running invoice jobs with a stale heartbeat as interrupted."""
    return [job.pk for job in jobs_interrupt_stale(job_model=InvoiceIngestJob, audit_prefix="invoices")]
