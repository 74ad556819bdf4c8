"""Job kinds the jobs tests run: registered like an app's, from here (imported by the tests that use them)."""

from django.core.exceptions import ValidationError

from apps.jobs.registry import register_job_kind
from apps.tenancy.roles import Perm, TokenScope

CALLS: list[tuple[int, int]] = []  # (job id, attempt) of every run of a test kind


def echo(job, progress) -> dict:
    CALLS.append((job.pk, job.attempts))
    total = int(job.params.get("steps", 3))
    for step in range(1, total + 1):
        progress(step, total, f"step {step} of {total}")
    return {"steps": total, "url": f"/o/{job.organization.slug}/jobs/"}


def flaky(job, progress) -> dict:
    """Refuses on its first attempt (a guard a person fixes), succeeds on the next."""
    CALLS.append((job.pk, job.attempts))
    if job.attempts == 1:
        raise ValidationError("The October invoices are missing: upload them, then retry.")
    return {"done": True}


def crash(job, progress) -> dict:
    CALLS.append((job.pk, job.attempts))
    raise ZeroDivisionError("division by zero")


register_job_kind("tests.echo", echo, label="Echo", perm=Perm.PREPARE_PERIOD, scope=TokenScope.PERIODS_READ)
register_job_kind("tests.flaky", flaky, label="Flaky", perm=Perm.PREPARE_PERIOD, scope=TokenScope.PERIODS_READ)
register_job_kind("tests.crash", crash, label="Crash", perm=Perm.PREPARE_PERIOD, scope=TokenScope.PERIODS_READ)
