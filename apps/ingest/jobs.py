"""What every ingest job (usage and invoices) shares about being alive: a heartbeat while a worker runs it,
and the sweeper that marks a job whose worker went silent (killed, lost) as interrupted, so that it can be
retried instead of showing "running" forever.

The job kinds are registered here by their apps (``register_job_kind`` from ``AppConfig.ready()``), so one
sweep command serves every kind without its app importing the others."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from apps.audit.services import audit_record


@dataclass(frozen=True)
class JobKind:
    label: str  # how the sweep command names a job: "usage job 12 (...)"
    job_model: type
    audit_prefix: str  # the audit action is "<prefix>.ingest_interrupted"


_kinds: dict[str, JobKind] = {}


def register_job_kind(label: str, *, job_model, audit_prefix: str) -> None:
    """Called from an app's ``AppConfig.ready()``; registering a label again replaces it."""
    _kinds[label] = JobKind(label=label, job_model=job_model, audit_prefix=audit_prefix)


def job_kinds() -> list[JobKind]:
    """The registered kinds, in registration order (INSTALLED_APPS order)."""
    return list(_kinds.values())


def job_heartbeat(job) -> None:
    """Record that the worker running ``job`` is alive (outside any long transaction, so it is seen)."""
    with scopes_disabled():
        type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())


def jobs_interrupt_stale(
    *, job_model, audit_prefix: str, stale_after: timedelta | None = None, now: datetime | None = None
) -> list:
    """Mark every running job of ``job_model`` (all organisations) whose heartbeat is older than
    ``stale_after`` (default: INGEST_STALE_AFTER) as interrupted, each with its audit event. Returns the
    jobs marked. Safe to run anywhere, any number of times at once: each job is re-checked under its lock."""
    now = now or timezone.now()
    cutoff = now - (stale_after if stale_after is not None else settings.INGEST_STALE_AFTER)
    running = job_model.Status.RUNNING
    stale = Q(status=running) & (Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
    marked = []
    with scopes_disabled():
        for pk in list(job_model.objects.filter(stale).order_by("pk").values_list("pk", flat=True)):
            with transaction.atomic():
                job = job_model.objects.select_for_update(of=("self",)).select_related("organization").get(pk=pk)
                if not job_model.objects.filter(pk=pk).filter(stale).exists():
                    continue  # it beat (or finished) since the query above
                silent_since = job.heartbeat_at
                job.status = job_model.Status.INTERRUPTED
                since = f" since {silent_since:%Y-%m-%d %H:%M} UTC" if silent_since else ""
                job.error_message = (
                    f"The worker running this file stopped reporting{since}. Nothing it committed is lost: "
                    "retry the job to finish it."
                )
                job.save(update_fields=["status", "error_message"])
                audit_record(
                    organization=job.organization,
                    actor=None,
                    action=f"{audit_prefix}.ingest_interrupted",
                    target=job,
                    before={"status": running},
                    after={
                        "status": job.status,
                        "heartbeat_at": silent_since.isoformat() if silent_since else None,
                        "attempts": job.attempts,
                        "accepted": job.accepted,
                    },
                )
                marked.append(job)
    return marked
