"""Period transitions that issue or finalise statements, run by a worker (the job kind "periods.transition").

Submitting a period for review issues every owner's statement (and its e-mails); closing finalises them and
books the journal; sending a period back withdraws the drafts. Those are the heavy transitions: the portal and
the API check them at once in the request (role, state, guards: a blocked transition is refused there, with
its messages, as before), then record a job (one per period at a time: dedupe key ``period:<YYYY-MM>``) and
answer. The worker calls ``services.period_transition`` with the actor who asked (a user, or an API client,
still subject to its role and the human-only rules), which checks everything again under the period's lock
and applies the transition and its effects in one transaction.

The cheap transitions (start reconciliation, approve, reopen: a state change and an audit event) stay in the
request. A reopen issues nothing: the next version's statements are issued by its next submit for review,
which is a job.

Redelivery: a worker killed after the transition committed but before the job was marked done has the job
run again; the runner sees the period already in the target state, at the same version, changed since the job
was recorded, and reports that instead of refusing (nothing is issued twice).
"""

from datetime import date

from django.urls import reverse

from apps.accounts.job_actor import job_actor, job_actor_params
from apps.jobs.models import Job
from apps.jobs.registry import register_job_kind
from apps.jobs.services import job_submit
from apps.tenancy.models import Organization
from apps.tenancy.roles import Perm, TokenScope
from apps.tenancy.scoping import tenant_scoped

from .models import BillingPeriod
from .services import WrongState, period_transition, transition_check
from .workflow import TRANSITIONS

KIND = "periods.transition"
# The transitions that issue, finalise or withdraw statements. A name the workflow does not define (yet) is
# ignored: ``send_back`` joins when the workflow has it.
JOB_TRANSITIONS = ("submit_for_review", "close", "send_back")


def runs_as_job(transition: str) -> bool:
    return transition in JOB_TRANSITIONS and transition in TRANSITIONS


def dedupe_key(period: date) -> str:
    return f"period:{period:%Y-%m}"


@tenant_scoped
def active_period_job(*, organization: Organization, period: date) -> Job | None:
    """The queued or running transition job of ``period``, if any: the page shows it, and a synchronous
    transition waits for it."""
    return (
        Job.objects.filter(organization=organization, dedupe_key=dedupe_key(period), status__in=Job.ACTIVE)
        .order_by("-created_at")
        .first()
    )


@tenant_scoped
def period_transition_submit(
    *, organization: Organization, period: date, transition: str, actor, reason: str = "", override: bool = False
) -> Job:
    """Check ``transition`` now (raising the ``PeriodTransitionError`` the service would) and queue it as a
    job. While the period has a queued or running transition job, that job is returned for the same transition
    (asking twice does it once) and another transition is refused (409)."""
    reason = (reason or "").strip()
    check = transition_check(
        organization=organization, period=period, transition=transition, actor=actor, override=override, reason=reason
    )
    error = check.error()
    if error is not None:
        raise error
    active = active_period_job(organization=organization, period=period)
    if active is not None and active.params.get("transition") != transition:
        raise busy_error(active)
    t = TRANSITIONS[transition]
    label = f"{period:%Y-%m}"
    params = {
        "period": label,
        "transition": transition,
        "reason": reason,
        "override": bool(override),
        **job_actor_params(actor),
        "version": check.billing_period.version,
    }
    return job_submit(
        organization=organization,
        kind=KIND,
        params=params,
        actor=actor,
        title=f"{t.label}: {label}",
        dedupe_key=dedupe_key(period),
    )


def busy_error(job: Job) -> WrongState:
    return WrongState(
        [
            f"{job.params.get('period')} is being moved by job {job.pk} ({job.title}, "
            f"{job.get_status_display().lower()}): wait until it finishes."
        ]
    )


def _already_done(job: Job, month: date, target: str) -> BillingPeriod | None:
    billing_period = BillingPeriod.objects.filter(organization=job.organization, period=month).first()
    if (
        billing_period is not None
        and billing_period.state == target
        and billing_period.version == job.params.get("version")
        and billing_period.state_changed_at is not None
        and billing_period.state_changed_at >= job.created_at
    ):
        return billing_period
    return None


def run_period_transition(job: Job, progress) -> dict:
    """The worker's part: the transition, under the period's lock, with its effects, in one transaction."""
    from apps.core.calendar import parse_period

    params = job.params
    organization = job.organization
    month = parse_period(params["period"])
    t = TRANSITIONS[params["transition"]]
    progress(0, 1, f"{t.label}: {params['period']}")
    billing_period = _already_done(job, month, t.target)
    repeated = billing_period is not None
    if billing_period is None:
        # A refusal now (the state moved on, a guard, a role changed) is a ValidationError: the job fails
        # with every message, as the page would have shown them.
        billing_period = period_transition(
            organization=organization,
            period=month,
            transition=t.name,
            actor=job_actor(job),
            reason=params.get("reason", ""),
            override=bool(params.get("override")),
        )
    return {
        "period": billing_period.label,
        "transition": t.name,
        "state": billing_period.state,
        "version": billing_period.version,
        "already_done": repeated,
        "url": reverse("periods:detail", kwargs={"org_slug": organization.slug, "period": billing_period.label}),
    }


def register() -> None:
    register_job_kind(
        KIND,
        run_period_transition,
        label="Period transition",
        perm=Perm.PREPARE_PERIOD,
        scope=TokenScope.PERIODS_READ,
    )
