"""Telling a person that no worker has taken their job. A queued job runs when a Celery worker takes it; with
none running (a development server started without `make demo`, a worker that died) it would wait silently
forever. A page that shows a queued job asks ``worker_wait_seconds`` how long it has waited, and past
WORKER_WAIT_WARNING_SECONDS says so (templates/core/_worker_wait.html) instead of showing a bar that never
moves. Every kind of job (usage and invoice imports, the generic job records) uses it."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone


def worker_wait_seconds(*, queued_since: datetime | None, now: datetime | None = None) -> int | None:
    """Whole seconds since ``queued_since`` when they are WORKER_WAIT_WARNING_SECONDS or more, else None
    (also for None: a job that is not waiting)."""
    if queued_since is None:
        return None
    waited = int(((now or timezone.now()) - queued_since).total_seconds())
    return waited if waited >= settings.WORKER_WAIT_WARNING_SECONDS else None
