"""Writes on billing periods: the one service that moves a period through its workflow.

``period_transition`` locks the period row, checks the state, the actor's role and every guard (built-in
and registered by other apps through ``hooks``), changes the state, records who did it, writes exactly
one audit event and runs the other apps' effects, all in one transaction. ``transition_check`` is the
same checks without the lock or the change: the period page shows its messages before anyone clicks.

Who acts: a portal or admin user acts as themselves, with their role in the organisation. An API token is
a service account: it acts as itself, with its own role (``ApiClient.role``) and scopes, never as the member
who created it. It prepares (start reconciliation, submit for review) when its role allows preparing and it
holds ``periods:write`` (the API checks the scope). Approving, closing, reopening and overriding a guard are
human actions (``tenancy.roles.HUMAN_ONLY_PERMS``): a token is refused them with 403 and that rule, whatever
its role, so maker-checker compares people in every interface.
"""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import HUMAN_ONLY_MESSAGE, HUMAN_ONLY_PERMS, TokenScope
from apps.tenancy.scoping import tenant_scoped

from . import hooks
from .events import period_event_emit
from .models import BillingPeriod
from .workflow import TRANSITIONS, Transition, roles_that_may, wrong_state_message

User = get_user_model()


@tenant_scoped
def period_for_update(*, organization: Organization, period: date, actor=None) -> BillingPeriod:
    """The period row, created open on first use, locked for the rest of the caller's transaction."""
    if period.day != 1:
        raise ValidationError({"period": "Choose a month (the first day of it), e.g. 2026-10."})
    BillingPeriod.objects.get_or_create(
        organization=organization,
        period=period,
        defaults={"created_by": actor if getattr(actor, "_meta", None) is not None else None},
    )
    return BillingPeriod.objects.select_for_update().get(organization=organization, period=period)


# --- errors -------------------------------------------------------------------------------------


class PeriodTransitionError(ValidationError):
    """A refused transition. ``status_code`` is what the API answers; the portal shows ``messages``."""

    status_code = 400

    def __init__(self, messages):
        super().__init__(list(messages))


class WrongState(PeriodTransitionError):
    status_code = 409


class TransitionForbidden(PeriodTransitionError):
    status_code = 403


class TransitionBlocked(PeriodTransitionError):
    status_code = 400


# --- who acts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acting:
    actor: object  # what the audit records: a user, an API principal, or None
    user: object | None  # the person, for roles and maker-checker (None for a token: it is nobody)
    membership: Membership | None
    label: str
    api_client: object | None = None

    def has_perm(self, perm: str) -> bool:
        if self.api_client is not None:  # its own role, less the human-only permissions
            return self.api_client.has_perm(perm)
        return self.membership is not None and self.membership.has_perm(perm)


def _membership(organization: Organization, user) -> Membership | None:
    if user is None or not user.is_active:
        return None
    return Membership.objects.filter(organization=organization, user=user).first()


@tenant_scoped
def acting_for(*, organization: Organization, actor) -> Acting:
    client = getattr(actor, "client", None)
    if client is not None:  # an API principal: the client itself, whoever created it
        return Acting(actor=actor, user=None, membership=None, label=client.audit_label, api_client=client)
    if getattr(actor, "_meta", None) is not None:
        return Acting(actor=actor, user=actor, membership=_membership(organization, actor), label=actor.get_username())
    return Acting(actor=None, user=None, membership=None, label="system")


def _role_blocker(t: Transition, acting: Acting, billing_period: BillingPeriod, *, override: bool = False) -> str:
    client = acting.api_client
    if client is not None and (t.perm in HUMAN_ONLY_PERMS or override):
        return HUMAN_ONLY_MESSAGE
    if acting.has_perm(t.perm):
        if client is not None and TokenScope.PERIODS_WRITE not in client.scopes:  # the API checks it first
            return f"API client {client.name} lacks the '{TokenScope.PERIODS_WRITE}' scope."
        return ""
    label, who_may = billing_period.label, roles_that_may(t.perm)
    if client is not None:
        return (
            f"API client {client.name} has the role {client.get_role_display()}, which cannot {t.verb} {label}: "
            f"only {who_may} can."
        )
    if acting.membership is None:
        organization = billing_period.organization.name
        return f"{acting.label} is not a member of {organization}: only {who_may} can {t.verb} {label}."
    return f"Your role ({acting.membership.get_role_display()}) cannot {t.verb} {label}: only {who_may} can."


# --- checks -------------------------------------------------------------------------------------


@dataclass
class TransitionCheck:
    """Why a transition would be refused now, grouped by how it is refused."""

    transition: Transition
    billing_period: BillingPeriod
    role: str = ""  # the actor's role may never do it (403)
    wrong_state: str = ""  # 409
    forbidden: list[str] = field(default_factory=list)  # this actor may not, here (403): maker-checker, override
    blocked: list[str] = field(default_factory=list)  # guards (400)
    reconciliation_run: object | None = None
    outside_tolerance: bool = False  # an override with a reason would clear the reconciliation guard
    override_used: bool = False
    earlier_open: list = field(default_factory=list)  # close: earlier periods not closed (an override may pass)

    @property
    def overridable(self) -> bool:
        """An override with a written reason would clear what blocks: the tolerance, or closing out of order."""
        return self.outside_tolerance or bool(self.earlier_open)

    @property
    def allowed(self) -> bool:
        return not (self.role or self.wrong_state or self.forbidden or self.blocked)

    @property
    def messages(self) -> list[str]:
        return [m for m in (self.role, self.wrong_state) if m] + self.forbidden + self.blocked

    def error(self) -> PeriodTransitionError | None:
        if self.role:
            return TransitionForbidden([self.role])
        if self.wrong_state:
            return WrongState([self.wrong_state])
        if self.forbidden:
            return TransitionForbidden(self.forbidden)
        if self.blocked:
            return TransitionBlocked(self.blocked)
        return None


def _check(
    *,
    organization: Organization,
    billing_period: BillingPeriod,
    t: Transition,
    acting: Acting,
    override: bool,
    reason: str,
) -> TransitionCheck:
    check = TransitionCheck(transition=t, billing_period=billing_period)
    check.role = _role_blocker(t, acting, billing_period, override=override)
    if billing_period.state != t.source:
        check.wrong_state = wrong_state_message(billing_period, t)
    label = billing_period.label
    for fill in hooks.checks_for(t.name):  # reconciliation's tolerance on submit_for_review
        fill(check, acting=acting, override=override, reason=reason)
    preparer = billing_period.prepared_by_id
    if t.name == "approve" and preparer is not None and acting.user is not None and acting.user.pk == preparer:
        by_token = billing_period.prepared_by_label.startswith("api:")
        check.forbidden.append(
            f"{acting.user.get_username()} prepared {label} "
            + (
                f"(through the API client they created, {billing_period.prepared_by_label}), "
                if by_token
                else "(submitted it for review), "
            )
            + "so cannot approve it: another finance admin must (maker-checker)."
        )
    if t.name in ("approve", "close") and organization.mode == Organization.Mode.SHOWBACK:
        check.blocked.append(
            f"{organization.name} is in showback: periods stop at reviewed statements; "
            f"switch to chargeback to {t.verb}."
        )
    if t.name == "close":
        _check_close_order(check, organization=organization, override=override, reason=reason)
    if t.reason_required and not reason:
        check.blocked.append(REASON_NEEDED[t.name].format(label=label, next_version=billing_period.version + 1))
    for guard in hooks.guards_for(t.name):
        message = guard(billing_period=billing_period, actor=acting.actor)
        if message:
            check.blocked.append(message if isinstance(message, str) else str(message))
    return check


REASON_NEEDED = {
    "reopen": "Reopening needs a written reason: it starts version {next_version} of {label}'s statements.",
    "send_back": "Sending {label} back needs a written reason: the owners of its withdrawn drafts are told it.",
}


def _check_close_order(check: TransitionCheck, *, organization: Organization, override: bool, reason: str) -> None:
    """Periods close in order: not while an earlier period's cycle is under way (reconciling, in review or
    approved), unless a finance admin overrides it with a written reason (the same override as the
    tolerance's: a human action, recorded on the transition's audit event). An earlier period still *open*
    has not started a cycle (a showback month before chargeback began, a month nobody charges) and does not
    hold the later ones back; once started, it must finish first."""
    billing_period = check.billing_period
    check.earlier_open = list(
        BillingPeriod.objects.filter(
            organization=organization,
            period__lt=billing_period.period,
            state__in=[BillingPeriod.State.RECONCILING, BillingPeriod.State.IN_REVIEW, BillingPeriod.State.APPROVED],
        ).order_by("period")
    )
    if not check.earlier_open:
        return
    if override and reason:
        check.override_used = True
        return
    first = check.earlier_open[0]
    others = len(check.earlier_open) - 1
    more = f" (and {others} more earlier period{'s' if others != 1 else ''})" if others else ""
    check.blocked.append(
        hooks.Blocker(
            f"{first.label} is {first.get_state_display().lower()}{more}: periods close in order, so close "
            f"{first.label} first, or a finance admin closes {billing_period.label} out of order with a written "
            "reason.",
            url=reverse("periods:detail", kwargs={"org_slug": organization.slug, "period": first.label}),
        )
    )
    if override and not reason:
        check.blocked.append(f"Closing {billing_period.label} out of order needs a written reason.")


@tenant_scoped
def transition_check(
    *,
    organization: Organization,
    period: date,
    transition: str,
    actor,
    override: bool = False,
    reason: str = "",
    billing_period: BillingPeriod | None = None,
) -> TransitionCheck:
    """What ``period_transition`` would say now, without locking or changing anything (the dry run the
    period page shows). A month without a period row is checked as the open period it would become."""
    t = _transition(transition)
    acting = acting_for(organization=organization, actor=actor)
    if billing_period is None:
        billing_period = BillingPeriod.objects.filter(organization=organization, period=period).first()
    if billing_period is None:
        billing_period = BillingPeriod(organization=organization, period=period)
    return _check(
        organization=organization,
        billing_period=billing_period,
        t=t,
        acting=acting,
        override=override,
        reason=(reason or "").strip(),
    )


def _transition(name: str) -> Transition:
    if name not in TRANSITIONS:
        raise TransitionBlocked([f"Unknown transition “{name}”: use one of {', '.join(TRANSITIONS)}."])
    return TRANSITIONS[name]


# --- the transition -----------------------------------------------------------------------------


def _snapshot(billing_period: BillingPeriod) -> dict:
    return {"state": billing_period.state, "version": billing_period.version}


def _apply(billing_period: BillingPeriod, t: Transition, acting: Acting, check: TransitionCheck, reason: str, now):
    after_extra: dict = {}
    if t.name == "submit_for_review":
        # A token's preparation is its creator's for maker-checker: the person who provisioned the token may
        # not approve what it submitted (else one person could prepare by script and approve by hand).
        preparer_user = acting.user if acting.api_client is None else acting.api_client.created_by
        billing_period.prepared_by, billing_period.prepared_by_label = preparer_user, acting.label
        billing_period.prepared_at = now
        after_extra["reconciliation_run"] = check.reconciliation_run.pk if check.reconciliation_run else None
        if check.override_used:
            billing_period.override_reason = reason
            billing_period.override_by, billing_period.override_by_label = acting.user, acting.label
            billing_period.override_at = now
            after_extra["override"] = True
        else:
            billing_period.override_reason, billing_period.override_by_label = "", ""
            billing_period.override_by, billing_period.override_at = None, None
    elif t.name == "approve":
        billing_period.approved_by, billing_period.approved_by_label = acting.user, acting.label
        billing_period.approved_at = now
    elif t.name == "close":
        billing_period.closed_by, billing_period.closed_by_label = acting.user, acting.label
        billing_period.closed_at = now
        if check.override_used:
            after_extra["closed_out_of_order"] = [earlier.label for earlier in check.earlier_open]
    elif t.name == "send_back":
        # Back to preparing: the next submission is a new preparation (and its preparer the one maker-checker
        # compares); the audit keeps who prepared the withdrawn drafts.
        after_extra["withdrawn_prepared_by"] = billing_period.prepared_by_label
        for prefix in ("prepared", "override"):
            setattr(billing_period, f"{prefix}_by", None)
            setattr(billing_period, f"{prefix}_by_label", "")
            setattr(billing_period, f"{prefix}_at", None)
        billing_period.override_reason = ""
    elif t.name == "reopen":
        # A new cycle: version n+1 is prepared, reviewed and approved afresh; the audit keeps the last one.
        billing_period.version += 1
        for prefix in ("prepared", "override", "approved", "closed"):
            setattr(billing_period, f"{prefix}_by", None)
            setattr(billing_period, f"{prefix}_by_label", "")
            setattr(billing_period, f"{prefix}_at", None)
        billing_period.override_reason = ""
    billing_period.state = t.target
    billing_period.state_changed_at = now
    return after_extra


@tenant_scoped
def period_transition(
    *,
    organization: Organization,
    period: date,
    transition: str,
    actor,
    reason: str = "",
    override: bool = False,
) -> BillingPeriod:
    """Move a period one step along ``workflow.TRANSITIONS``, or raise a ``PeriodTransitionError`` that
    carries every message that blocks it (``WrongState`` 409, ``TransitionForbidden`` 403,
    ``TransitionBlocked`` 400). Two people doing the same transition at once: the row lock makes the
    second one wait, then find the state moved on (409); exactly one audit event is written."""
    t = _transition(transition)
    reason = (reason or "").strip()
    acting = acting_for(organization=organization, actor=actor)
    with transaction.atomic():
        billing_period = period_for_update(organization=organization, period=period, actor=acting.user)
        check = _check(
            organization=organization,
            billing_period=billing_period,
            t=t,
            acting=acting,
            override=override,
            reason=reason,
        )
        error = check.error()
        if error is not None:
            raise error
        before = _snapshot(billing_period)
        after_extra = _apply(billing_period, t, acting, check, reason, timezone.now())
        billing_period._transition_saving = True
        try:
            billing_period.save()
        finally:
            billing_period._transition_saving = False
        audit_record(
            organization=organization,
            actor=acting.actor,
            action=f"billing_period.{t.name}",
            target=billing_period,
            before=before,
            after={**_snapshot(billing_period), "period": billing_period.label, **after_extra},
            reason=reason,
        )
        period_event_emit(billing_period=billing_period, transition=t.name, actor_label=acting.label, reason=reason)
        for effect in hooks.effects_for(t.name):
            effect(billing_period=billing_period, actor=acting.actor, reason=reason)
    return billing_period
