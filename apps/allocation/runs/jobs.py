"""The job kind "allocation.run": a month allocated by a worker (registered in ``apps.allocation.apps``)."""

from datetime import date

from django.urls import reverse

from apps.accounts.job_actor import job_actor, job_actor_params
from apps.core.money import nano_to_decimal, quantize_money
from apps.jobs.models import Job
from apps.jobs.services import job_submit
from apps.tenancy.scoping import tenant_scoped

from . import selectors, services

KIND = "allocation.run"


def dedupe_key(period: date) -> str:
    return f"allocation:{period:%Y-%m}"


@tenant_scoped
def allocation_submit(*, organization, period: date, actor) -> Job:
    """Queue the allocation of ``period`` (or return the one already queued or running for it), after the
    checks that refuse it at once (a frozen period, no published rule set: a ValidationError)."""
    services.allocation_check(organization=organization, period=period)
    before = selectors.current_run(organization=organization, period=period)
    return job_submit(
        organization=organization,
        kind=KIND,
        params={"period": period.isoformat(), "run_before": before.pk if before else None, **job_actor_params(actor)},
        actor=actor,
        title=f"Allocation of {period:%Y-%m}",
        dedupe_key=dedupe_key(period),
    )


def run_allocation_job(job, progress) -> dict:
    """Allocate ``params["period"]`` as the job's actor. Safe to run again: an attempt after one that wrote
    the run returns that run; unchanged inputs keep the draft as it is."""
    organization = job.organization
    period = date.fromisoformat(job.params["period"])
    run = services.allocation_run_create(
        organization=organization, period=period, actor=job_actor(job), progress=progress, job=job
    )
    if run.pk == job.params.get("run_before"):
        level = "info"
        message = (
            f"Nothing has changed since run #{run.pk}: the usage, invoices and rules are the same, "
            f"so the allocation of {run.period_label} is kept as it is."
        )
    else:
        level = "success"
        version = run.rule_set_version
        unallocated = quantize_money(nano_to_decimal(run.unallocated_nano), run.currency)
        message = (
            f"Allocated {run.period_label} with {version.rule_set.name} v{version.number}: {run.line_count} lines, "
            f"Unallocated {unallocated} {run.currency}."
        )
    return {
        "run": run.pk,
        "period": run.period_label,
        "lines": run.line_count,
        "pool_total_nano": run.pool_total_nano,
        "unallocated_nano": run.unallocated_nano,
        "currency": run.currency,
        "level": level,
        "message": message,
        "url": reverse("allocation:period", kwargs={"org_slug": organization.slug, "period": run.period_label}),
    }
