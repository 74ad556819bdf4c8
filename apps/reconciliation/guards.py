"""Reconciliation's part in the period workflow, registered through ``apps.periods.hooks`` (see ``apps.py``)."""

from apps.periods.services import Acting, TransitionCheck
from apps.periods.workflow import roles_that_may
from apps.tenancy.roles import Perm

from .formatting import normalised_pct
from .selectors import latest_run, run_lines


def _provider_text(line, tolerance_pct) -> str:
    if line.variance_pct is None:
        return f"{line.provider} ({line.note or 'nothing to compare'})"
    if abs(line.variance_pct) <= tolerance_pct:
        # Rounded to two places the variance looks within (5.004 % shows as 5.00 %); the exact one is not.
        return f"{line.provider} ({line.variance_pct:+.2f}%, just over {normalised_pct(tolerance_pct)}% exactly)"
    return f"{line.provider} ({line.variance_pct:+.2f}%)"


def submit_check(check: TransitionCheck, *, acting: Acting, override: bool, reason: str) -> None:
    """Submitting a period for review needs a reconciliation run of its month within tolerance, or a finance
    admin's override with a written reason."""
    billing_period = check.billing_period
    label = billing_period.label
    run = latest_run(organization=billing_period.organization, period=billing_period.period)
    check.reconciliation_run = run
    if run is None:
        check.blocked.append(f"Reconcile {label} first: submitting for review needs a reconciliation run of the month.")
        return
    if run.status == run.Status.WITHIN:
        return
    check.outside_tolerance = True
    outside = [line for line in run_lines(run=run, level="provider") if line.within_tolerance is not True]
    if not override:
        which = ", ".join(_provider_text(line, run.tolerance_pct) for line in outside)
        check.blocked.append(
            f"Reconciliation run #{run.pk} of {label} is outside the {normalised_pct(run.tolerance_pct)}% tolerance "
            f"for {which}: fix the data and reconcile again, or a "
            "finance admin submits with an override and a written reason."
        )
        return
    if not acting.has_perm(Perm.APPROVE_PERIOD):
        check.forbidden.append(
            f"Only {roles_that_may(Perm.APPROVE_PERIOD)} can override the reconciliation tolerance: ask one to "
            f"submit {label} with a written reason."
        )
    if not reason:
        check.blocked.append(
            f"An override needs a written reason: say why {label} may go to review outside the tolerance."
        )
    check.override_used = True
