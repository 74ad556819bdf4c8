"""The job kind "reconciliation.run": a month reconciled by a worker (registered in ``apps.py``)."""

from datetime import date

from django.urls import reverse

from apps.accounts.job_actor import job_actor, job_actor_params
from apps.jobs.models import Job
from apps.jobs.services import job_submit
from apps.tenancy.scoping import tenant_scoped

from .formatting import normalised_pct
from .services import reconciliation_run_create

KIND = "reconciliation.run"


def dedupe_key(period: date) -> str:
    return f"reconciliation:{period:%Y-%m}"


def run_reconciliation_job(job, progress) -> dict:
    """Reconcile ``params["period"]`` (YYYY-MM-DD, the first day) as the job's actor. Safe to run again: an
    attempt after one that wrote the run returns that run."""
    organization = job.organization
    run = reconciliation_run_create(
        organization=organization,
        period=date.fromisoformat(job.params["period"]),
        actor=job_actor(job),
        progress=progress,
        job=job,
    )
    overview = reverse("reconciliation:overview", kwargs={"org_slug": organization.slug})
    return {
        "run": run.pk,
        "period": run.period_label,
        "status": run.status,
        "estimated_nano": run.estimated_nano,
        "invoiced_nano": run.invoiced_nano,
        "currency": run.currency,
        "message": f"Reconciled {run.period_label}: {run.get_status_display().lower()} (tolerance "
        f"{normalised_pct(run.tolerance_pct)}%).",
        "url": f"{overview}?period={run.period_label}",
    }


@tenant_scoped
def reconciliation_submit(*, organization, period: date, actor) -> Job:
    """Queue the reconciliation of ``period`` (or return the one already queued or running for it)."""
    return job_submit(
        organization=organization,
        kind=KIND,
        params={"period": period.isoformat(), **job_actor_params(actor)},
        actor=actor,
        title=f"Reconciliation of {period:%Y-%m}",
        dedupe_key=dedupe_key(period),
    )
