"""Reads for the periods board, a period's page and its timeline. Each runs in the scope of the organisation it is
given (``tenancy.scoping.tenant_scoped``), directly or through the billing period."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet

from apps.audit.models import AuditEvent
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import hooks
from .late_data import LateData, late_data_for
from .models import BillingPeriod
from .services import TransitionCheck, transition_check
from .workflow import transition_from, transitions_back_from


@tenant_scoped
def months(*, organization: Organization) -> list[date]:
    """Months with a period row or data of a registered month source (invoices, usage), newest first: what
    the board lists."""
    found = set(BillingPeriod.objects.filter(organization=organization).values_list("period", flat=True))
    for source_months, _has_month in hooks.month_sources().values():
        found |= set(source_months(organization=organization))
    return sorted(found, reverse=True)


@tenant_scoped
def month_exists(*, organization: Organization, period: date) -> bool:
    """A month the organisation has something in: a period row, or a registered source's data (an invoice,
    usage in its bounds)."""
    return BillingPeriod.objects.filter(organization=organization, period=period).exists() or any(
        has_month(organization=organization, period=period) for _months, has_month in hooks.month_sources().values()
    )


@tenant_scoped
def billing_period_or_unsaved(*, organization: Organization, period: date) -> BillingPeriod:
    """The period row, or the open period the month would become (not saved: reading never creates one)."""
    found = BillingPeriod.objects.filter(organization=organization, period=period).first()
    return found or BillingPeriod(organization=organization, period=period)


@tenant_scoped
def figures_for(*, organization: Organization, periods: list[date]) -> dict[date, object]:
    """Estimated and invoiced cost of the months, from the provider registered with
    ``hooks.register_period_figures`` (reconciliation's ``period_figures``); nothing without one."""
    provider = hooks.period_figures()
    return provider(organization=organization, periods=periods) if provider else {}


@tenant_scoped
def facts_for(*, organization: Organization, billing_periods: list[BillingPeriod]) -> dict[str, dict[int, object]]:
    """Every registered period fact (``hooks.register_period_fact``) for the saved periods, by label."""
    saved = [bp for bp in billing_periods if bp.pk]
    if not saved:
        return {label: {} for label in hooks.period_facts()}
    organization = saved[0].organization
    return {label: fn(organization=organization, billing_periods=saved) for label, fn in hooks.period_facts().items()}


@dataclass(frozen=True)
class Readiness:
    """What stands between a period and its next step, for the people who prepare and approve it."""

    next_label: str
    ready: bool
    messages: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.ready:
            return f"Ready: {self.next_label.lower()}"
        return self.messages[0]


@tenant_scoped
def readiness(*, organization: Organization, billing_period: BillingPeriod, actor) -> Readiness:
    t = transition_from(billing_period.state)
    check = transition_check(
        organization=organization,
        period=billing_period.period,
        transition=t.name,
        actor=actor,
        billing_period=billing_period,
        reason="(board)" if t.reason_required else "",
    )
    # Roles and maker-checker are about who looks, not about the period: the board shows the period's own state.
    return Readiness(next_label=t.label, ready=not check.blocked, messages=check.blocked)


@dataclass
class BoardRow:
    period: date
    billing_period: BillingPeriod
    figures: object | None  # the registered provider's figures of the month, None without one
    late: LateData
    facts: list
    readiness: Readiness

    @property
    def label(self) -> str:
        return f"{self.period:%Y-%m}"


@tenant_scoped
def board(*, organization: Organization, periods: list[date], actor) -> tuple[list[str], list[BoardRow]]:
    """Rows of the periods board for the given months, and the labels of the fact columns."""
    existing = {bp.period: bp for bp in BillingPeriod.objects.filter(organization=organization, period__in=periods)}
    billing_periods = [existing.get(p) or BillingPeriod(organization=organization, period=p) for p in periods]
    figures = figures_for(organization=organization, periods=periods)
    late = late_data_for(organization=organization, billing_periods=billing_periods)
    facts = facts_for(organization=organization, billing_periods=billing_periods)
    rows = [
        BoardRow(
            period=bp.period,
            billing_period=bp,
            figures=figures.get(bp.period),
            late=late.get(bp.pk, LateData()),
            facts=[values.get(bp.pk) for values in facts.values()],
            readiness=readiness(organization=organization, billing_period=bp, actor=actor),
        )
        for bp in billing_periods
    ]
    return list(facts), rows


@tenant_scoped(via="billing_period")
def timeline(*, billing_period: BillingPeriod) -> QuerySet[AuditEvent]:
    """The period's audit events, oldest first: its transitions and late-data flags."""
    if not billing_period.pk:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        Q(object_type=BillingPeriod._meta.label_lower, object_id=str(billing_period.pk))
    ).order_by("seq")


@tenant_scoped
def checks_for_page(*, organization: Organization, billing_period: BillingPeriod, actor) -> dict:
    """The dry run of the period's next transition for this actor, of the override when one would clear what
    blocks it (reconciliation outside tolerance, an earlier period not closed), and of the ways back."""
    t = transition_from(billing_period.state)
    # A reason is typed into the form, so its absence is not shown as a blocker before anyone types one.
    check: TransitionCheck = transition_check(
        organization=organization,
        period=billing_period.period,
        transition=t.name,
        actor=actor,
        billing_period=billing_period,
        reason="(dry run)" if t.reason_required else "",
    )
    override = None
    if check.overridable:
        override = transition_check(
            organization=organization,
            period=billing_period.period,
            transition=t.name,
            actor=actor,
            override=True,
            reason="(dry run)",
            billing_period=billing_period,
        )
    warnings = [message for warn in hooks.warnings_for(t.name) if (message := warn(billing_period=billing_period))]
    back = [
        transition_check(
            organization=organization,
            period=billing_period.period,
            transition=back_t.name,
            actor=actor,
            billing_period=billing_period,
            reason="(dry run)",
        )
        for back_t in transitions_back_from(billing_period.state)
    ]
    return {"transition": t, "check": check, "override_check": override, "warnings": warnings, "back_checks": back}


@tenant_scoped
def settled_periods(*, organization: Organization) -> set[date]:
    """The periods approved or closed: their runs are made, so their amounts need no further rates."""
    return set(
        BillingPeriod.objects.filter(
            organization=organization, state__in=[BillingPeriod.State.APPROVED, BillingPeriod.State.CLOSED]
        ).values_list("period", flat=True)
    )
