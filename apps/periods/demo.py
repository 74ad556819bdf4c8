"""Demo periods: acme switches to chargeback; April to September 2026 go all the way to closed (prepared by
the analyst, or by the second finance admin with a recorded override when reconciliation is outside
tolerance, and approved and closed by the first finance admin), so forecasts and budgets have six charged
months to compare with; October goes up to review; November stays open. The months before April stay open:
acme ran them in showback (their usage, bills and allocations are there, nobody was charged).
globex stays in showback: September and October go up to review (statements in EUR), November stays open
(its USD usage has no shipped ECB rate yet). Idempotent: each step runs only from the state it leaves, so a
second run changes nothing."""

from datetime import date

from django.contrib.auth import get_user_model

from apps.accounts.services import organization_mode_switch
from apps.tenancy.models import Organization
from apps.tenancy.roles import Perm

from .selectors import billing_period_or_unsaved
from .services import period_transition, transition_check
from .workflow import TRANSITIONS

User = get_user_model()

OVERRIDE_REASON = (
    "Anthropic bills cache writes at the 1-hour rate our gateway prices at 5 minutes; the difference is "
    "understood and charged at the invoice amount through the true-up."
)
CLOSE = ("start_reconciliation", "submit_for_review", "approve", "close")
CLOSED_MONTHS = [date(2026, month, 1) for month in range(4, 10)]  # April to September 2026
PLAN = {
    **dict.fromkeys(CLOSED_MONTHS, CLOSE),
    date(2026, 10, 1): ("start_reconciliation", "submit_for_review"),
    date(2026, 11, 1): (),
}
GLOBEX_PLAN = {
    date(2026, 9, 1): ("start_reconciliation", "submit_for_review"),
    date(2026, 10, 1): ("start_reconciliation", "submit_for_review"),
    date(2026, 11, 1): (),
}
PLANS = {"acme": PLAN, "globex": GLOBEX_PLAN}


def seed_demo(*, organization, stdout) -> None:
    plan = PLANS.get(organization.slug)
    slug = organization.slug
    if plan is None or not User.objects.filter(username=f"{slug}-analyst").exists():
        stdout.write(f"  {slug}: stays in showback, periods open")
        return
    people = {
        name: User.objects.get(username=f"{slug}-{name}") for name in ("admin", "analyst", "finadmin", "finadmin2")
    }
    if slug == "globex":
        stdout.write(f"  {slug}: stays in showback (periods stop at review)")
    elif organization.mode != Organization.Mode.CHARGEBACK:
        organization_mode_switch(
            organization=organization,
            actor=people["admin"],
            mode=Organization.Mode.CHARGEBACK,
            reason="Reconciliation has been within tolerance for two months; tagging gaps are closed.",
        )
        stdout.write(f"  {organization.slug}: switched to chargeback")
    for period, steps in plan.items():
        billing_period = billing_period_or_unsaved(organization=organization, period=period)
        if billing_period.state == TRANSITIONS["start_reconciliation"].source and "submit_for_review" in steps:
            # A month with nothing to review (no reconciliation or allocation yet) is left open, not half done.
            ready = transition_check(
                organization=organization,
                period=period,
                transition="submit_for_review",
                actor=people["finadmin2"],
                override=True,
                reason=OVERRIDE_REASON,
            )
            if ready.blocked:
                stdout.write(f"  {slug}: {period:%Y-%m} stays open: {' '.join(ready.blocked)}")
                continue
        for name in steps:
            if billing_period.state != TRANSITIONS[name].source:
                continue
            approver = TRANSITIONS[name].perm == Perm.APPROVE_PERIOD
            actor, override, reason = people["finadmin" if approver else "analyst"], False, ""
            if name == "submit_for_review":
                check = transition_check(organization=organization, period=period, transition=name, actor=actor)
                if check.outside_tolerance:
                    # Only a finance admin may override, and then the other one approves (maker-checker).
                    actor, override, reason = people["finadmin2"], True, OVERRIDE_REASON
            billing_period = period_transition(
                organization=organization, period=period, transition=name, actor=actor, override=override, reason=reason
            )
            stdout.write(
                f"  {organization.slug}: {billing_period.label} {TRANSITIONS[name].label.lower()} by "
                f"{actor.username}{' (tolerance override)' if override else ''}"
            )
        stdout.write(f"  {organization.slug}: {billing_period.label} is {billing_period.get_state_display().lower()}")
