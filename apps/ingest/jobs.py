"""What every ingest job (usage and invoices) shares about its life: being queued (on the kind's Celery
task, once the transaction that made it commits), entered by a worker (``job_scope``), marked running,
beating while it runs, finished, the sweeper that marks a job whose worker went silent (killed, lost) as
interrupted, and the retry that queues a failed or interrupted job again.

The job kinds are registered here by their apps (``register_job_kind`` from ``AppConfig.ready()``), with
the task that runs a job: the services queue a job through its kind, so a service never imports its own
tasks module (the task module imports the service), and one sweep command serves every kind without its
app importing the others."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from apps.audit.services import audit_record
from apps.tenancy.scoping import organization_scope, tenant_scoped


@dataclass(frozen=True)
class JobKind:
    label: str  # how the sweep command names a job: "usage job 12 (...)"
    job_model: type
    audit_prefix: str  # the audit actions are "<prefix>.ingest_retried", "<prefix>.ingest_interrupted"
    task: object = None  # the Celery task that runs a job by id
    noun: str = "job"  # how a retry refusal names it: "Only a failed or interrupted <noun> can be retried"
    retry_audit_fields: tuple[str, ...] = ()  # the job's figures the retry's audit event records


_kinds: dict[str, JobKind] = {}


def register_job_kind(
    label: str, *, job_model, audit_prefix: str, task=None, noun: str = "job", retry_audit_fields=()
) -> None:
    """Called from an app's ``AppConfig.ready()``; registering a label again replaces it."""
    _kinds[label] = JobKind(
        label=label,
        job_model=job_model,
        audit_prefix=audit_prefix,
        task=task,
        noun=noun,
        retry_audit_fields=tuple(retry_audit_fields),
    )


def job_kinds() -> list[JobKind]:
    """The registered kinds, in registration order (INSTALLED_APPS order)."""
    return list(_kinds.values())


def job_kind_of(job_model) -> JobKind:
    """The registered kind of ``job_model`` (a LookupError when no app registered it)."""
    for kind in _kinds.values():
        if kind.job_model is job_model:
            return kind
    raise LookupError(f"{job_model.__name__} is not a registered job kind.")


def job_enqueue(job) -> None:
    """Queue ``job`` on its kind's task once the current transaction commits (at once outside one)."""
    job_kind_of(type(job)).task.delay_on_commit(job.pk)


@tenant_scoped(via="job")
def job_retry(*, job, actor, enqueue: bool = True):
    """Queue a failed or interrupted job again; its kind's task resumes it (usage from its checkpoint, so
    rows committed by earlier attempts are neither stored nor counted again; invoices read the whole file
    again, nothing of it having been stored). A file refused as a whole needs a new upload instead."""
    kind = job_kind_of(type(job))
    job_model = kind.job_model
    with transaction.atomic():
        job = job_model.objects.select_for_update(of=("self",)).select_related("organization").get(pk=job.pk)
        if not job.can_retry:
            if job.refused_as_whole:
                raise ValidationError("This file was refused as a whole; fix it and upload it again.")
            raise ValidationError(
                f"Only a failed or interrupted {kind.noun} can be retried; "
                f"this one is {job.get_status_display().lower()}."
            )
        before = job.status
        job.status = job_model.Status.QUEUED
        job.finished_at = None
        job.save(update_fields=["status", "finished_at"])
        audit_record(
            organization=job.organization,
            actor=actor,
            action=f"{kind.audit_prefix}.ingest_retried",
            target=job,
            before={"status": before},
            after={"status": job.status, **{name: getattr(job, name) for name in kind.retry_audit_fields}},
        )
        if enqueue:
            job_enqueue(job)
    return job


@contextmanager
def job_scope(job_model, job_id: int) -> Iterator:
    """For a worker given a job's id (a Celery task's body): the job, inside its organisation's scope."""
    with scopes_disabled():
        job = job_model.objects.select_related("organization").get(pk=job_id)
    with organization_scope(job.organization):
        yield job


@tenant_scoped(via="job")
def job_mark_running(*, job):
    """Start an attempt at ``job`` (under its lock): running, one more attempt, beating now, no error
    message; a job's first start is kept (``started_at``, where the kind records it). A job that another
    runner finished meanwhile is returned as it is."""
    job_model = type(job)
    with transaction.atomic():
        job = job_model.objects.select_for_update(of=("self",)).select_related("organization").get(pk=job.pk)
        if job.is_finished:
            return job
        now = timezone.now()
        job.status = job_model.Status.RUNNING
        job.attempts += 1
        job.heartbeat_at = now
        job.error_message = ""
        fields = ["status", "attempts", "heartbeat_at", "error_message"]
        if hasattr(job, "started_at"):
            job.started_at = job.started_at or now
            fields.append("started_at")
        job.save(update_fields=fields)
    return job


@tenant_scoped(via="job")
def job_finish(*, job, status: str, message: str = "", audit_fields: tuple[str, ...] = ()):
    """End ``job`` with ``status`` and ``message`` (under its lock), audited as "<prefix>.ingest_<status>"
    with the job's ``audit_fields`` and the message. A job already finished (by another runner) is returned
    as it is."""
    kind = job_kind_of(type(job))
    with transaction.atomic():
        job = kind.job_model.objects.select_for_update(of=("self",)).select_related("organization").get(pk=job.pk)
        if job.is_finished:
            return job
        job.status = status
        job.error_message = message
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_message", "finished_at"])
        audit_record(
            organization=job.organization,
            actor=None,
            action=f"{kind.audit_prefix}.ingest_{status}",
            target=job,
            after={**{name: getattr(job, name) for name in audit_fields}, "message": message},
        )
    return job


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
