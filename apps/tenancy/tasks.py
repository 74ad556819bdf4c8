from celery import shared_task

from .idempotency import idempotency_keys_purge


@shared_task(name="tenancy.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Scheduled (CELERY_BEAT_SCHEDULE): delete the Idempotency-Keys of every organisation older than
    IDEMPOTENCY_KEY_RETENTION (48 h). Returns how many."""
    return idempotency_keys_purge()
