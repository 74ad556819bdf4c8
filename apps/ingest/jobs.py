"""What every ingest job (usage and invoices) shares about its life: being queued (on the kind's Celery
task, once the transaction that made it commits), entered by a worker (``job_scope``), marked running,
beating while it runs, finished, the sweeper that marks a job whose worker went silent (killed, lost) as
interrupted, the retry that queues a failed or interrupted job again, and the retention of the received
bytes (deleted once a job cannot be re-run; kept INGEST_PAYLOAD_RETENTION_DAYS for one that can).

The job kinds are registered here by their apps (``register_job_kind`` from ``AppConfig.ready()``), with
the task that runs a job: the services queue a job through its kind, so a service never imports its own
tasks module (the task module imports the service), and one sweep command serves every kind without its
app importing the others."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_scopes import scopes_disabled

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.core.observability.metrics import observe_ingest
from apps.core.workers import worker_wait_seconds
from apps.ingest.payloads import payload_discard, payload_exists, payload_files_older_than
from apps.tenancy.scoping import organization_scope, tenant_scoped

logger = logging.getLogger(__name__)


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
        job = _locked(job_model, organization_id=job.organization_id, pk=job.pk)
        if not job.can_retry:
            if job.refused_as_whole:
                raise ValidationError("This file was refused as a whole; fix it and upload it again.")
            raise ValidationError(
                f"Only a failed or interrupted {kind.noun} can be retried; "
                f"this one is {job.get_status_display().lower()}."
            )
        if not job.payload_kept:
            raise ValidationError(
                f"The received file of this {kind.noun} is no longer kept (deleted on "
                f"{job.payload_deleted_at:%Y-%m-%d}, at the end of its retention: INGEST_PAYLOAD_RETENTION_DAYS); "
                "upload it again."
            )
        if not payload_exists(job.payload):
            raise ValidationError(
                f"The received file of this {kind.noun} is missing from the payload folder (INGEST_PAYLOAD_DIR); "
                "upload it again."
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
        job = _locked(job_model, organization_id=job.organization_id, pk=job.pk)
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
        job = _locked(kind.job_model, organization_id=job.organization_id, pk=job.pk)
        if job.is_finished:
            return job
        job.status = status
        job.error_message = message
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error_message", "finished_at"])
        if not job.can_retry:
            # Nothing can re-run it: its received bytes go once this is committed.
            transaction.on_commit(
                lambda: job_payload_purge(job_model=kind.job_model, organization_id=job.organization_id, job_id=job.pk),
                robust=True,
            )
        if status == kind.job_model.Status.SUCCEEDED:
            transaction.on_commit(lambda: _observe_throughput(kind, job), robust=True)
        audit_record(
            organization=job.organization,
            actor=None,
            action=f"{kind.audit_prefix}.ingest_{status}",
            target=job,
            after={**{name: getattr(job, name) for name in audit_fields}, "message": message},
        )
    return job


@tenant_scoped(via="job")
def job_worker_wait(*, job, now: datetime | None = None) -> int | None:
    """Seconds ``job`` has been waiting for a worker, once past WORKER_WAIT_WARNING_SECONDS (its page then
    asks whether a worker runs); None when it is not queued or has not waited that long. The wait counts from
    when it was last queued: its creation, or for a retried job its latest retry (read from the retry's audit
    event: one query, only while a retried job is queued)."""
    if job.status != job.Status.QUEUED:
        return None
    since = job.created_at
    if job.attempts:
        retried = (
            AuditEvent.objects.filter(
                organization_id=job.organization_id,
                object_type=job._meta.label_lower,
                object_id=str(job.pk),
                action=f"{job_kind_of(type(job)).audit_prefix}.ingest_retried",
            )
            .order_by("-seq")
            .values_list("created_at", flat=True)
            .first()
        )
        since = max(since, retried) if retried else since
    return worker_wait_seconds(queued_since=since, now=now)


def _observe_throughput(kind: JobKind, job) -> None:
    """Ingest rows per second for the operators' metrics: the job's rows over its time from first start (or,
    for a kind that records no start, from being received) to its end."""
    started = getattr(job, "started_at", None) or job.created_at
    observe_ingest(kind=kind.audit_prefix, rows=job.rows_total, seconds=(job.finished_at - started).total_seconds())


def job_heartbeat(job) -> None:
    """Record that the worker running ``job`` is alive (outside any long transaction, so it is seen)."""
    with scopes_disabled():
        type(job).objects.filter(organization_id=job.organization_id, pk=job.pk).update(heartbeat_at=timezone.now())


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
        for organization_id, pk in list(
            job_model.objects.filter(stale).order_by("pk").values_list("organization_id", "pk")
        ):
            with transaction.atomic():
                job = _locked(job_model, organization_id=organization_id, pk=pk)
                if not job_model.objects.filter(organization_id=organization_id, pk=pk).filter(stale).exists():
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


# Statuses of a job that stopped without its rows: retrying (or a new upload, for a refused file) is up to someone.
STUCK_STATUSES = ("failed", "interrupted", "refused")


@tenant_scoped
def jobs_unresolved_failures(*, organization, job_model, since: datetime) -> QuerySet:
    """Jobs of ``job_model`` made since ``since`` that failed, were interrupted or (a kind that knows it) refused,
    and were not put right since: a retry runs the same job again (so a retried one that succeeded is no longer
    here), and a later successful job of the same file (the same bytes, or an upload of the same file name: a
    fixed file) settles it too. Newest first."""
    stuck = [status for status in STUCK_STATUSES if status in job_model.Status.values]
    # Correlated on the organisation too, so that a distributed database routes it to one shard.
    later_success = job_model.objects.filter(
        organization_id=OuterRef("organization_id"),
        status=job_model.Status.SUCCEEDED,
        created_at__gt=OuterRef("created_at"),
    ).filter(Q(sha256=OuterRef("sha256")) | Q(channel="upload", file_name=OuterRef("file_name")))
    return (
        job_model.objects.filter(organization=organization, status__in=stuck, created_at__gte=since)
        .exclude(Exists(later_success))
        .order_by("-created_at", "-id")
    )


def _locked(job_model, *, organization_id: int, pk: int):
    """The job row locked, found by its organisation and id (a lock is taken on a routed query only)."""
    return (
        job_model.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(organization_id=organization_id, pk=pk)
    )


def _stopped_at():
    """When a job stopped: finished, else (interrupted) its last heartbeat, else its creation."""
    return Coalesce("finished_at", "heartbeat_at", "created_at")


def job_payload_purge(
    *,
    job_model,
    organization_id: int,
    job_id: int,
    retention: timedelta | None = None,
    now: datetime | None = None,
):
    """Delete the received bytes of one job (under its lock) if they are no longer needed: the job is not
    queued or running, and either cannot be re-run or stopped more than ``retention`` ago (default:
    INGEST_PAYLOAD_RETENTION_DAYS). The job records when (``payload_deleted_at``); a retryable job whose
    bytes expire is audited ("<prefix>.ingest_payload_expired"), since it can no longer be retried.
    Returns the job when its bytes were deleted, else None. Safe to run again and at once elsewhere."""
    kind = job_kind_of(job_model)
    now = now or timezone.now()
    if retention is None:
        retention = timedelta(days=settings.INGEST_PAYLOAD_RETENTION_DAYS)
    active = (job_model.Status.QUEUED, job_model.Status.RUNNING)
    with scopes_disabled(), transaction.atomic():
        job = (
            job_model.objects.select_for_update(of=("self",))
            .select_related("organization")
            .annotate(stopped_at=_stopped_at())
            .filter(organization_id=organization_id, pk=job_id)
            .first()
        )
        if job is None or not job.payload_kept or job.status in active:
            return None
        expired = job.can_retry
        if expired and job.stopped_at > now - retention:
            return None  # it may still be retried
        job.payload_deleted_at = now
        job.save(update_fields=["payload_deleted_at"])
        if expired:
            audit_record(
                organization=job.organization,
                actor=None,
                action=f"{kind.audit_prefix}.ingest_payload_expired",
                target=job,
                before={"payload": job.payload, "status": job.status},
                after={"payload_deleted_at": now.isoformat(), "retention_days": retention.days},
            )
        payload_discard(job.payload)  # last: a failure here rolls the mark back, and the next run tries again
    logger.info(
        "%s job %s (%s): received file %s deleted (%s)",
        kind.label,
        job.pk,
        job.organization.slug,
        job.payload,
        f"retention of {retention.days} days ran out" if expired else f"{job.status}, cannot be re-run",
    )
    return job


def jobs_purge_payloads(
    *, job_model, retention: timedelta | None = None, now: datetime | None = None, batch: int = 500
) -> tuple[list, bool]:
    """One bounded pass of the retention of received bytes for ``job_model`` (all organisations): up to
    ``batch`` jobs whose bytes are due (see ``job_payload_purge``), oldest first. Returns (the jobs whose
    bytes were deleted, whether more may be due). Idempotent: a job is purged once."""
    now = now or timezone.now()
    if retention is None:
        retention = timedelta(days=settings.INGEST_PAYLOAD_RETENTION_DAYS)
    retryable = (job_model.Status.FAILED, job_model.Status.INTERRUPTED)
    active = (job_model.Status.QUEUED, job_model.Status.RUNNING)
    due = Q(payload_deleted_at__isnull=True) & ~Q(status__in=active)
    due &= ~Q(status__in=retryable) | Q(stopped_at__lt=now - retention)
    with scopes_disabled():
        candidates = list(
            job_model.objects.annotate(stopped_at=_stopped_at())
            .filter(due)
            .order_by("pk")
            .values_list("organization_id", "pk")[: batch + 1]
        )
    purged = []
    for organization_id, pk in candidates[:batch]:
        job = job_payload_purge(
            job_model=job_model, organization_id=organization_id, job_id=pk, retention=retention, now=now
        )
        if job is not None:
            purged.append(job)
    return purged, len(candidates) > batch


def payloads_purge_orphans(*, older_than: timedelta = timedelta(days=1), now: datetime | None = None, batch: int = 500):
    """Delete kept files that no job of any kind names: bodies whose job was never committed (the receiving
    transaction rolled back, the process died before its commit). Only files older than ``older_than``, so
    a body whose job is being created now is never taken. At most ``batch`` files looked at. Returns the
    files deleted."""
    now = now or timezone.now()
    candidates = payload_files_older_than((now - older_than).timestamp(), limit=batch)
    named = set()
    with scopes_disabled():
        for kind in job_kinds():
            named.update(kind.job_model.objects.filter(payload__in=candidates).values_list("payload", flat=True))
    deleted = [path for path in candidates if path not in named and payload_discard(path)]
    for path in deleted:
        logger.info("received file %s deleted: no ingest job names it", path)
    return deleted
