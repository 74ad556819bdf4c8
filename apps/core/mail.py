"""Notification e-mails, sent by a worker after the change that caused them commits.

Every e-mail the portal sends goes through ``send_mail_on_commit``: nothing is sent for a change that rolled
back, the request never waits on the mail server, and a mail server that is down or refuses for a moment is
tried again (``core.send_mail``: up to MAIL_MAX_RETRIES times, backing off exponentially up to an hour). A
redelivered task (a worker killed after sending, before acknowledging) may send one e-mail twice: mail is
at-least-once, never lost."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def send_mail_on_commit(subject: str, body: str, recipients, *, from_email: str | None = None) -> bool:
    """Queue one e-mail to ``recipients`` (blank and repeated addresses dropped) once the current transaction
    commits (at once outside one). Returns whether there was anyone to write to."""
    to = sorted({address for address in recipients if address})
    if not to:
        return False
    from .tasks import send_mail_task

    def queue() -> None:
        send_mail_task.delay(subject=subject, body=body, recipients=to, from_email=from_email)

    # robust: a failure to queue (broker down) is logged, never turned into an error of the committed change.
    transaction.on_commit(queue, robust=True)
    return True
