"""A job's life: submitted (recorded, then queued on the worker once the transaction that asked for it
commits), run by a worker (running, beating, reporting progress), finished (succeeded with its result, or
failed with the reason), interrupted by the sweeper when its worker went silent, and retried.

Under the embedded default (no broker: Celery runs eagerly) a submitted job runs at once, in the request that
asked for it, as the work did before it was a job; with a broker the request returns as soon as the job is
recorded and the page polls it."""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from apps.audit.services import audit_record
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope, tenant_scoped

from .models import Job
from .registry import job_kind

logger = logging.getLogger(__name__)

UNEXPECTED = (
    "The job stopped on an unexpected error ({name}); it is logged for the administrators. Nothing of it was "
    "half-written: retry it, and if it fails again, ask an administrator."
)


def _runs_inline() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def _queue(job: Job) -> None:
    """Queue ``job`` once the current transaction commits, or (no broker: eager) run it now."""
    from .tasks import run_job

    if _runs_inline():
        run_job(job.organization_id, job.pk)
        return
    transaction.on_commit(lambda: run_job.delay(job.organization_id, job.pk), robust=True)


@tenant_scoped
def job_submit(
    *, organization: Organization, kind: str, params: dict, actor, title: str, dedupe_key: str | None = None
) -> Job:
    """Record a job of ``kind`` and queue it. While a job with the same ``dedupe_key`` is queued or running,
    that job is returned instead (asking twice does the work once)."""
    job_kind(kind)  # an unknown kind is a programming error: refuse before recording anything
    user = actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None)
    with transaction.atomic():
        if dedupe_key:
            active = _active_with_key(organization, dedupe_key)
            if active is not None:
                return active
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    organization=organization,
                    kind=kind,
                    title=title[:200],
                    params=params,
                    dedupe_key=dedupe_key,
                    queued_at=timezone.now(),
                    created_by=user,
                    created_by_label=getattr(actor, "audit_label", None) or str(user or "system"),
                )
        except IntegrityError:
            # Another request recorded the same work a moment ago: that one runs it.
            active = _active_with_key(organization, dedupe_key) if dedupe_key else None
            if active is None:
                raise
            return active
        audit_record(
            organization=organization,
            actor=actor,
            action="job.queued",
            target=job,
            after={"kind": kind, "title": job.title, "params": params},
        )
    _queue(job)
    job.refresh_from_db()
    return job


def _active_with_key(organization: Organization, dedupe_key: str) -> Job | None:
    return (
        Job.objects.select_for_update()
        .filter(organization=organization, dedupe_key=dedupe_key, status__in=Job.ACTIVE)
        .first()
    )


def _locked(organization_id: int, pk: int) -> Job:
    return Job.objects.select_for_update().select_related("organization").get(organization=organization_id, pk=pk)


@tenant_scoped(via="job")
def job_retry(*, job: Job, actor) -> Job:
    """Queue a failed or interrupted job again (its kind runs it from the start: kinds are idempotent)."""
    kind = job_kind(job.kind)
    with transaction.atomic():
        job = _locked(job.organization_id, job.pk)
        if not job.can_retry:
            raise ValidationError(
                f"Only a failed or interrupted job can be retried; this one is {job.get_status_display().lower()}."
            )
        if not kind.retryable:
            raise ValidationError(f"A {kind.label.lower()} cannot be retried: start it again instead.")
        if job.dedupe_key:
            other = _active_with_key(job.organization, job.dedupe_key)
            if other is not None:
                raise ValidationError(f"The same work is already {other.get_status_display().lower()}: job {other.pk}.")
        before = job.status
        job.status = Job.Status.QUEUED
        job.queued_at = timezone.now()
        job.finished_at = None
        job.error_message = ""
        job.save(update_fields=["status", "queued_at", "finished_at", "error_message"])
        audit_record(
            organization=job.organization,
            actor=actor,
            action="job.retried",
            target=job,
            before={"status": before},
            after={"status": job.status, "attempts": job.attempts},
        )
    _queue(job)
    job.refresh_from_db()
    return job


def job_run(*, organization_id: int, job_id: int) -> Job:
    """The worker's part (the ``jobs.run_job`` task): run the job's kind once, unless the job is finished
    already (a redelivered task, a second worker). Never raises for the kind's failure: the job records it."""
    organization = Organization.objects.get(pk=organization_id)
    with organization_scope(organization):
        job = _start(organization_id, job_id)
        if job is None:
            return Job.objects.get(organization=organization_id, pk=job_id)
        kind = job_kind(job.kind)
        beat = _Heartbeat(job) if not connection.in_atomic_block else None
        try:
            if beat:
                beat.start()
            result = kind.runner(job, _progress_for(job)) or {}
        except ValidationError as exc:
            return _finish(job, Job.Status.FAILED, message=" ".join(exc.messages))
        except Exception as exc:  # the kind's bug or an outage: recorded on the job, logged with its traceback
            logger.exception("Job %s (%s) failed", job.pk, job.kind)
            return _finish(job, Job.Status.FAILED, message=UNEXPECTED.format(name=type(exc).__name__))
        finally:
            if beat:
                beat.stop()
        return _finish(job, Job.Status.SUCCEEDED, result=result)


def _start(organization_id: int, job_id: int) -> Job | None:
    with transaction.atomic():
        job = _locked(organization_id, job_id)
        if job.is_finished:
            return None
        now = timezone.now()
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error_message = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "error_message"])
    return job


def _finish(job: Job, status: str, *, message: str = "", result: dict | None = None) -> Job:
    with transaction.atomic():
        job = _locked(job.organization_id, job.pk)
        if job.is_finished:
            return job
        job.status = status
        job.error_message = message
        job.result = _jsonable(result or {})
        job.result_url = str((result or {}).get("url", ""))[:300]
        job.finished_at = timezone.now()
        if status == Job.Status.SUCCEEDED:
            job.progress_done = max(job.progress_done, job.progress_total)
        job.save(update_fields=["status", "error_message", "result", "result_url", "finished_at", "progress_done"])
        if status == Job.Status.FAILED:
            audit_record(
                organization=job.organization,
                actor=None,
                action="job.failed",
                target=job,
                after={"kind": job.kind, "attempts": job.attempts, "message": message},
            )
    return job


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _progress_for(job: Job):
    def progress(done: int, total: int, message: str = "") -> None:
        """Record how far the job is (seen by the page at once). Skipped inside a transaction, where nobody
        else could see it before the commit anyway."""
        if connection.in_atomic_block:
            return
        job.progress_done, job.progress_total, job.progress_message = done, total, message[:200]
        Job.objects.filter(organization=job.organization_id, pk=job.pk).update(
            progress_done=max(0, int(done)),
            progress_total=max(0, int(total)),
            progress_message=message[:200],
            heartbeat_at=timezone.now(),
        )

    return progress


class _Heartbeat:
    """Beats for a running job every JOB_HEARTBEAT_SECONDS from a thread of its own (its own database
    connection), so that a long phase without progress reports is not taken for a dead worker."""

    def __init__(self, job: Job):
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job.pk}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    with scopes_disabled():
                        Job.objects.filter(
                            organization=self.job.organization_id, pk=self.job.pk, status=Job.Status.RUNNING
                        ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database (SQLite's one writer): the next beat will do
                    logger.debug("Heartbeat of job %s skipped", self.job.pk, exc_info=True)
        finally:
            close_old_connections()
            connection.close()


def jobs_interrupt_stale(*, stale_after: timedelta | None = None, now: datetime | None = None) -> list[Job]:
    """Mark every running job (all organisations) whose heartbeat is older than ``stale_after`` (default
    JOB_STALE_AFTER) as interrupted, with the reason and an audit event. Re-checked under each job's lock."""
    now = now or timezone.now()
    cutoff = now - (stale_after if stale_after is not None else settings.JOB_STALE_AFTER)
    marked = []
    with scopes_disabled():
        stale = list(
            Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
            .order_by("pk")
            .values_list("organization_id", "pk")
        )
        for organization_id, pk in stale:
            with transaction.atomic():
                job = _locked(organization_id, pk)
                if job.status != Job.Status.RUNNING or (job.heartbeat_at and job.heartbeat_at >= cutoff):
                    continue
                silent_since = job.heartbeat_at
                job.status = Job.Status.INTERRUPTED
                job.error_message = (
                    f"The worker running this job stopped reporting since {silent_since:%Y-%m-%d %H:%M} UTC. "
                    "Nothing of it was half-written: retry it."
                )
                job.save(update_fields=["status", "error_message"])
                audit_record(
                    organization=job.organization,
                    actor=None,
                    action="job.interrupted",
                    target=job,
                    before={"status": Job.Status.RUNNING},
                    after={"status": job.status, "attempts": job.attempts, "heartbeat_at": silent_since.isoformat()},
                )
                marked.append(job)
    return marked
