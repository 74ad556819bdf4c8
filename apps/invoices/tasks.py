from celery import shared_task

from .services.ingest import invoice_ingest_run


@shared_task(name="invoices.run_invoice_ingest", acks_late=True)
def run_invoice_ingest(job_id: int) -> dict:
    job = invoice_ingest_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "accepted": job.accepted}
