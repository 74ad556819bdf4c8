"""What needs this member, for the home page: periods waiting for their approval, periods they must prepare,
disputes waiting for an answer (and the ones past the organisation's response window), imports that failed,
and alerts nobody has acknowledged. Each item links to the page where it is dealt with.

Each section asks the app that owns the rule: the period workflow's dry run (``transition_check``: the role,
the state, maker-checker) decides who may approve; ``disputes_visible`` who sees a dispute; ``ingest`` which
failed job is still unresolved. Every section reads a bounded number of rows (``SECTION_LIMIT`` items, a count
of the rest), so the page's queries do not grow with the organisation's history.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from apps.core.calendar import period_bounds
from apps.disputes.selectors import disputes_visible
from apps.ingest.jobs import jobs_unresolved_failures
from apps.invoices.models import InvoiceIngestJob
from apps.owners.selectors import visible_owner_ids
from apps.periods.models import BillingPeriod
from apps.periods.selectors import months
from apps.periods.services import transition_check
from apps.periods.workflow import transition_from
from apps.showback.models import Alert
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Perm
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import IngestJob

SECTION_LIMIT = 10
# Failed imports older than this are history, not a task.
FAILED_IMPORT_WINDOW = timedelta(days=30)
# Periods whose next step is an approver's: approve (in review), then close (approved).
AWAITING_APPROVER = (BillingPeriod.State.IN_REVIEW, BillingPeriod.State.APPROVED)
# Periods whose next step is a preparer's once the period has ended: start reconciling, submit for review.
AWAITING_PREPARER = (BillingPeriod.State.OPEN, BillingPeriod.State.RECONCILING)


@dataclass(frozen=True)
class InboxItem:
    title: str
    link: str
    detail: str = ""
    due: date | None = None  # a deadline: the template says "due in N days" / "N days overdue"
    days_left: int | None = None  # due - today (negative: overdue)
    blocked: bool = False  # it is the member's step, but something must happen first (``detail`` says what)

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def due_text(self) -> str:
        if self.days_left is None:
            return ""
        if self.days_left < 0:
            days = -self.days_left
            return f"{days} day{'s' if days != 1 else ''} overdue"
        if self.days_left == 0:
            return "due today"
        return f"due in {self.days_left} day{'s' if self.days_left != 1 else ''}"


@dataclass
class InboxSection:
    key: str  # approve | prepare | disputes | imports | alerts
    heading: str
    items: list[InboxItem] = field(default_factory=list)
    total: int = 0  # all of them (items shows at most SECTION_LIMIT)
    more_link: str = ""  # where the rest are listed
    note: str = ""  # e.g. "2 past their deadline"

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


@dataclass
class Inbox:
    sections: list[InboxSection] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(section.total for section in self.sections)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def _url(name: str, organization: Organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


def _today(now: datetime) -> date:
    return now.astimezone(UTC).date()


# --- periods -----------------------------------------------------------------------------------------


def _approvals(membership: Membership, organization: Organization) -> InboxSection | None:
    if not membership.has_perm(Perm.APPROVE_PERIOD):
        return None
    section = InboxSection("approve", "Periods awaiting your approval", more_link=_url("periods:board", organization))
    if organization.mode == Organization.Mode.SHOWBACK:
        return section  # periods stop at reviewed statements in showback: nothing to approve or close
    candidates = list(
        BillingPeriod.objects.filter(organization=organization, state__in=AWAITING_APPROVER)
        .select_related("organization")
        .order_by("period")[: SECTION_LIMIT + 1]
    )
    for billing_period in candidates[:SECTION_LIMIT]:
        t = transition_from(billing_period.state)
        check = transition_check(
            organization=organization,
            period=billing_period.period,
            transition=t.name,
            actor=membership.user,
            billing_period=billing_period,
        )
        if check.role or check.wrong_state or check.forbidden:
            continue  # not this member's step (maker-checker: they prepared it)
        section.items.append(
            InboxItem(
                title=f"{t.label} {billing_period.label}",
                link=_url("periods:detail", organization, period=billing_period.period),
                detail=check.blocked[0] if check.blocked else f"{billing_period.get_state_display()}.",
                blocked=bool(check.blocked),
            )
        )
    # Beyond the first SECTION_LIMIT only a count is needed; maker-checker is not re-checked for those.
    section.total = len(section.items) + max(len(candidates) - SECTION_LIMIT, 0)
    return section


def _preparations(membership: Membership, organization: Organization, today: date) -> InboxSection | None:
    if not membership.has_perm(Perm.PREPARE_PERIOD):
        return None
    section = InboxSection("prepare", "Periods to prepare", more_link=_url("periods:board", organization))
    ended = [
        month
        for month in months(organization=organization)
        if period_bounds(month, start_day=organization.period_start_day)[1] <= today
    ]
    if not ended:
        return section
    states = dict(
        BillingPeriod.objects.filter(organization=organization, period__in=ended).values_list("period", "state")
    )
    waiting = sorted(month for month in ended if states.get(month, BillingPeriod.State.OPEN) in AWAITING_PREPARER)
    section.total = len(waiting)
    for month in waiting[:SECTION_LIMIT]:
        t = transition_from(states.get(month, BillingPeriod.State.OPEN))
        state = BillingPeriod.State(states.get(month, BillingPeriod.State.OPEN)).label.lower()
        section.items.append(
            InboxItem(
                title=f"{t.label}: {month:%Y-%m}",
                link=_url("periods:detail", organization, period=month),
                detail=f"The period has ended and is {state}.",
            )
        )
    return section


# --- disputes ----------------------------------------------------------------------------------------


def _disputes(membership: Membership, organization: Organization, now: datetime) -> InboxSection | None:
    resolves = membership.has_perm(Perm.RESOLVE_DISPUTES)
    if not (resolves or membership.has_perm(Perm.OPEN_DISPUTES)):
        return None
    days = organization.dispute_response_days
    today = _today(now)
    # Due on the day opened + the response window; overdue once that day has passed.
    overdue_before = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=days)
    heading = "Disputes waiting for your answer" if resolves else "Your open disputes (waiting for finance)"
    section = InboxSection("disputes", heading, more_link=_url("disputes:list", organization) + "?status=open")
    open_disputes = disputes_visible(membership=membership).filter(status="open")
    counts = open_disputes.aggregate(total=Count("id"), overdue=Count("id", filter=Q(opened_at__lt=overdue_before)))
    section.total = counts["total"]
    if counts["overdue"]:
        section.note = f"{counts['overdue']} past the {days}-day response window"
    for dispute in open_disputes.select_related("owner", "statement").order_by("opened_at", "id")[:SECTION_LIMIT]:
        due = dispute.opened_at.astimezone(UTC).date() + timedelta(days=days)
        section.items.append(
            InboxItem(
                title=f"Dispute #{dispute.pk} on {dispute.statement.reference}",
                link=_url("disputes:detail", organization, pk=dispute.pk),
                detail=f"{dispute.amount:,.2f} {dispute.currency}, opened {dispute.opened_at:%Y-%m-%d}.",
                due=due,
                days_left=(due - today).days,
            )
        )
    return section


# --- imports -----------------------------------------------------------------------------------------

_IMPORTS = (
    (IngestJob, "usage:job_detail", "Usage import"),
    (InvoiceIngestJob, "invoices:import_detail", "Invoice import"),
)


def _imports(membership: Membership, organization: Organization, now: datetime) -> InboxSection | None:
    if not membership.has_perm(Perm.INGEST):
        return None
    section = InboxSection("imports", "Imports that failed (last 30 days)", more_link=_url("usage:jobs", organization))
    found = []
    for job_model, url_name, noun in _IMPORTS:
        jobs = jobs_unresolved_failures(
            organization=organization, job_model=job_model, since=now - FAILED_IMPORT_WINDOW
        )
        section.total += jobs.count()
        found += [(job, url_name, noun) for job in jobs[:SECTION_LIMIT]]
    found.sort(key=lambda entry: entry[0].created_at, reverse=True)
    for job, url_name, noun in found[:SECTION_LIMIT]:
        section.items.append(
            InboxItem(
                title=f"{noun} #{job.pk}: {job.file_name}",
                link=_url(url_name, organization, pk=job.pk),
                detail=f"{job.get_status_display()} on {job.created_at:%Y-%m-%d}. "
                + (job.error_message.splitlines()[0][:160] if job.error_message else ""),
            )
        )
    return section


# --- alerts ------------------------------------------------------------------------------------------


def _alerts(membership: Membership, organization: Organization) -> InboxSection | None:
    """Budget and spike alerts nobody has acknowledged, newest first: every one for finance and viewers, those of
    their cost centres for a budget owner (an alert of no cost centre, e.g. a model's spike, is finance's)."""
    owner_ids = visible_owner_ids(membership=membership)
    if owner_ids is not None and not owner_ids:
        return None  # nobody's cost centres: no alert can be theirs
    section = InboxSection("alerts", "Alerts not yet acknowledged")
    alerts = Alert.objects.filter(organization=organization, acknowledged_at__isnull=True)
    if owner_ids is not None:
        alerts = alerts.filter(owner_id__in=owner_ids)
    section.total = alerts.count()
    for alert in alerts.order_by("-fired_at", "-id")[:SECTION_LIMIT]:
        section.items.append(
            InboxItem(
                title=alert.title,
                link=alert.link or _url("usage:explorer", organization),
                detail=f"{alert.get_kind_display()}, {alert.fired_at:%Y-%m-%d %H:%M} UTC.",
            )
        )
    return section


@tenant_scoped(via="membership")
def action_inbox(*, membership: Membership, now: datetime | None = None) -> Inbox:
    """What needs ``membership`` now, by section; sections the member's role has nothing to do with are left
    out, the others are there even when empty (the home says "nothing waiting")."""
    now = now or timezone.now()
    organization = membership.organization
    sections = [
        _approvals(membership, organization),
        _preparations(membership, organization, _today(now)),
        _disputes(membership, organization, now),
        _imports(membership, organization, now),
        _alerts(membership, organization),
    ]
    return Inbox(sections=[section for section in sections if section is not None])
