import logging
import random
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)

TEMPORARY = (smtplib.SMTPException, OSError)


def backoff_seconds(retries: int) -> int:
    """30 s, 60 s, 120 s … up to an hour, with up to 10% of jitter so a recovering server is not hit at once."""
    delay = min(3600, 30 * 2**retries)
    return delay + random.randint(0, delay // 10)  # noqa: S311 (jitter, not a secret)


@shared_task(name="core.send_mail", bind=True, acks_late=True)
def send_mail_task(self, *, subject: str, body: str, recipients: list[str], from_email: str | None = None) -> int:
    """Send one notification e-mail (``apps.core.mail.send_mail_on_commit`` queues it). A temporary failure of
    the mail server (an SMTP error, a refused or dropped connection) is retried MAIL_MAX_RETRIES times with
    backoff; without a worker (eager, the embedded default) the retries are made at once."""
    attempts = 0
    while True:
        try:
            return send_mail(subject, body, from_email, recipients)
        except TEMPORARY as exc:
            if not self.request.is_eager:
                if self.request.retries >= settings.MAIL_MAX_RETRIES:
                    logger.error(
                        "E-mail %r to %s given up after %s retries: %s", subject, recipients, self.request.retries, exc
                    )
                    raise
                raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc
            attempts += 1
            if attempts > settings.MAIL_MAX_RETRIES:
                logger.error("E-mail %r to %s given up after %s attempts: %s", subject, recipients, attempts, exc)
                raise
