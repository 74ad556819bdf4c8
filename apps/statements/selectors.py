"""Reads over statements: what a member may see, a statement by section, the difference with the version
it supersedes, drill-down queries into the usage explorer, and the budget owner's home panel.

Each read takes the member (what a budget owner sees depends on the person), the statement, or the
organisation, and runs in its scope (``apps.tenancy.scoping.tenant_scoped``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum

from apps.allocation.runs.selectors import RunConversion, run_conversion, runs_conversions
from apps.core.calendar import month_before
from apps.owners.models import Budget
from apps.owners.selectors import visible_owner_ids
from apps.pricing.constants import COST_SOURCES
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped

from .models import SECTION_ORDER, Adjustment, Section, Statement, StatementLine

UNTAGGED = "(missing)"  # the usage explorer's value for "this tag is absent"
EXPLORER_COST_SOURCES = frozenset(COST_SOURCES)  # what the usage explorer filters by


@tenant_scoped(via="membership")
def statements_visible(*, membership: Membership) -> QuerySet[Statement]:
    """Finance and viewers see every statement; a budget owner those of their cost centres' subtree."""
    queryset = Statement.objects.filter(organization_id=membership.organization_id)
    visible = visible_owner_ids(membership=membership)
    return queryset if visible is None else queryset.filter(owner_id__in=visible)


@tenant_scoped(via="membership")
def statement_list(
    *, membership: Membership, period: date | None = None, owner_code: str = "", status: str = ""
) -> QuerySet[Statement]:
    queryset = statements_visible(membership=membership)
    if period is not None:
        queryset = queryset.filter(period=period)
    if owner_code:
        queryset = queryset.filter(owner_code__iexact=owner_code.strip())
    if status == "current":
        queryset = queryset.filter(superseded_by__isnull=True).exclude(status=Statement.Status.WITHDRAWN)
    elif status == "superseded":
        queryset = queryset.filter(superseded_by__isnull=False)
    elif status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("superseded_by").order_by("-period", "owner_code", "-version", "-id")


@tenant_scoped(via="membership")
def statement_periods(*, membership: Membership) -> list[date]:
    periods = statements_visible(membership=membership).values_list("period", flat=True)
    return list(periods.distinct().order_by("-period"))


def _usage_query(line: StatementLine, period_label: str) -> str:
    """The usage explorer's query string for the requests behind a line; "" for adjustments."""
    if line.section == Section.ADJUSTMENT:
        return ""
    params: dict[str, str] = {"month": period_label}
    if line.provider:
        params["provider"] = line.provider
    if line.section != Section.TRUE_UP:
        # The true-up is the invoice's difference to the estimate: only its provider and month have usage.
        if line.model:
            params["model"] = line.model
        if line.cost_source in EXPLORER_COST_SOURCES:
            params["cost_source"] = line.cost_source
        params["tag_feature"] = line.feature or UNTAGGED
        for dimension, value in sorted((line.match_tags or {}).items()):
            params[f"tag_{dimension}"] = value
        if line.match_tags:
            params["group_by"] = "day"
    return urlencode(params)


@dataclass
class SectionView:
    key: str
    label: str
    lines: list[StatementLine]
    amount: Decimal
    nano: int
    small: SmallLines | None = None  # set by ``group_small_lines``


@tenant_scoped(via="statement")
def statement_sections(*, statement: Statement, drill_into_shared: bool = True) -> list[SectionView]:
    """The statement's sections in order, each with its lines (drill-down query on ``line.usage_query``).

    A shared line's usage is the pool's (e.g. the platform team's), which a budget owner's usage explorer
    does not show, so their shared lines get no drill-down (``drill_into_shared=False``)."""
    by_section: dict[str, list[StatementLine]] = {section: [] for section in SECTION_ORDER}
    lines = (
        StatementLine.objects.filter(statement=statement)
        .select_related("adjustment")
        .annotate(dispute_count=Count("disputes"))
        .order_by("position")
    )
    for line in lines:
        drill = drill_into_shared or line.section != Section.SHARED
        line.usage_query = _usage_query(line, statement.period_label) if drill else ""
        by_section[line.section].append(line)
    return [
        SectionView(
            key=section,
            label=Section(section).label,
            lines=by_section[section],
            amount=statement.section_amount(section),
            nano=statement.section_nano(section),
        )
        for section in SECTION_ORDER
    ]


@dataclass
class DifferenceRow:
    label: str
    previous: Decimal
    current: Decimal

    @property
    def difference(self) -> Decimal:
        return self.current - self.previous


@tenant_scoped(via="statement")
def statement_difference(*, statement: Statement) -> list[DifferenceRow]:
    """Per section and in total, this statement against the one it supersedes ([] when it supersedes none)."""
    previous = statement.supersedes
    if previous is None:
        return []
    rows = [
        DifferenceRow(Section(section).label, previous.section_amount(section), statement.section_amount(section))
        for section in SECTION_ORDER
    ]
    rows.append(DifferenceRow("Total", previous.total_amount, statement.total_amount))
    return rows


# --- the budget owner's home panel ---------------------------------------------------------------


@dataclass
class BudgetRow:
    owner_code: str
    owner_name: str
    statement: Statement | None
    charged: Decimal
    budget: Decimal | None
    budget_currency: str = ""

    @property
    def charged_currency(self) -> str:
        return self.statement.currency if self.statement is not None else ""

    @property
    def comparable(self) -> bool:
        """A budget and a charge are compared only in one currency: nothing converts a budget."""
        return self.budget is not None and self.budget_currency == self.charged_currency

    @property
    def mismatch(self) -> str:
        """ "budget in USD, charges in EUR: not compared", or "" when the two can be compared (or no budget)."""
        if self.budget is None or self.comparable:
            return ""
        return f"budget in {self.budget_currency}, charges in {self.charged_currency}: not compared"

    @property
    def used_pct(self) -> Decimal | None:
        if not self.budget or not self.comparable:
            return None
        return (self.charged / self.budget * 100).quantize(Decimal("0.1"))

    @property
    def bar_pct(self) -> int:
        used = self.used_pct
        return 0 if used is None else max(0, min(100, int(used)))

    @property
    def over(self) -> bool:
        return self.comparable and self.charged > self.budget


@dataclass
class OwnerPanel:
    period: date | None
    statements: list[Statement] = field(default_factory=list)
    rows: list[BudgetRow] = field(default_factory=list)
    charged: Decimal = Decimal(0)
    budget: Decimal | None = None
    currency: str = ""
    open_disputes: list = field(default_factory=list)  # filled by the portal home (apps.portal.selectors)

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}" if self.period else ""

    @property
    def used_pct(self) -> Decimal | None:
        """Charges of the budgeted cost centres against their budgets (those in the charges' currency)."""
        if not self.budget:
            return None
        charged = sum((row.charged for row in self.rows if row.comparable), Decimal(0))
        return (charged / self.budget * 100).quantize(Decimal("0.1"))

    @property
    def mismatches(self) -> list[str]:
        return [f"{row.owner_code}: {row.mismatch}" for row in self.rows if row.mismatch]


@tenant_scoped
def adjustments_for_dispute(*, organization: Organization, dispute_id: int) -> QuerySet[Adjustment]:
    """The adjustment pair an accepted dispute wrote (by kind: the re-charge, then the credit); empty otherwise."""
    return (
        Adjustment.objects.filter(organization=organization, dispute_id=dispute_id)
        .select_related("owner")
        .order_by("kind")
    )


@tenant_scoped(via="membership")
def current_statements(*, membership: Membership, period: date) -> list[Statement]:
    """The latest version of each visible owner's statement for a period."""
    return list(
        statements_visible(membership=membership)
        .filter(period=period, superseded_by__isnull=True)
        .exclude(status=Statement.Status.WITHDRAWN)
        .order_by("owner_code", "-version")
    )


@tenant_scoped(via="membership")
def owner_statements_panel(*, membership: Membership) -> OwnerPanel | None:
    """For budget owners: the latest period with statements and each owner's charge against its budget.
    None for other roles (finance has the queue). The portal home adds the open disputes
    (``apps.portal.selectors.owner_home_panel``)."""
    if membership.role != Role.BUDGET_OWNER:
        return None
    visible = statements_visible(membership=membership).exclude(status=Statement.Status.WITHDRAWN)
    latest = visible.order_by("-period").values_list("period", flat=True).first()
    panel = OwnerPanel(period=latest, currency=membership.organization.base_currency)
    if latest is None:
        return panel
    panel.statements = current_statements(membership=membership, period=latest)
    budgets = {
        owner_id: (amount, currency)
        for owner_id, amount, currency in Budget.objects.filter(
            organization=membership.organization,
            owner_id__in=[s.owner_id for s in panel.statements],
            period=latest,
        ).values_list("owner_id", "amount", "currency")
    }
    for statement in panel.statements:
        budget, budget_currency = budgets.get(statement.owner_id, (None, ""))
        panel.rows.append(
            BudgetRow(
                statement.owner_code, statement.owner_name, statement, statement.total_amount, budget, budget_currency
            )
        )
    panel.charged = sum((row.charged for row in panel.rows), Decimal(0))
    # Only budgets in the charges' currency are added up and compared; another currency is named, not converted.
    budgeted = [row.budget for row in panel.rows if row.comparable]
    panel.budget = sum(budgeted, Decimal(0)) if budgeted else None
    if panel.statements:
        panel.currency = panel.statements[0].currency
    return panel


@tenant_scoped(via="membership")
def period_totals(*, membership: Membership, period: date) -> dict:
    """Sums of the current statements of a period that the member sees (finance list header)."""
    rows = (
        statements_visible(membership=membership)
        .filter(period=period, superseded_by__isnull=True)
        .exclude(status=Statement.Status.WITHDRAWN)
    )
    totals = rows.aggregate(total=Sum("total_nano"), drafts=Count("id", filter=Q(status="draft")), count=Count("id"))
    return {"total_nano": totals["total"] or 0, "drafts": totals["drafts"], "count": totals["count"]}


@tenant_scoped(via="statement")
def statement_conversion(*, statement: Statement) -> RunConversion | None:
    """The exchange rates behind a statement: its allocation run's conversion (a final statement is never
    updated; the rates live on the run). None when everything was in the statement's currency."""
    return run_conversion(run=statement.allocation_run)


@tenant_scoped
def statements_conversions(*, organization: Organization, statements) -> dict[int, RunConversion]:
    """``statement_conversion`` of a page of statements, in three queries however many rows (the API list):
    {statement id: RunConversion}, absent for a statement whose run converted nothing."""
    by_run = runs_conversions(organization=organization, run_ids={s.allocation_run_id for s in statements})
    return {s.pk: by_run[s.allocation_run_id] for s in statements if s.allocation_run_id in by_run}


# --- the summary that opens a statement ----------------------------------------------------------

SMALL_LINE_SHARE = Decimal("0.005")  # a line under 0.5% of the statement's total (in absolute value) is small
SMALL_LINES_MIN = 3  # grouping fewer small lines than this saves nothing
BREAKDOWN_ROWS = 8  # the largest rows of a breakdown; the rest add up to one "others" row
# What a line without the dimension is, by its section (a true-up has a provider but no model or feature;
# an adjustment has none of them).
_NO_VALUE = {
    Section.DIRECT: "(none)",
    Section.SHARED: "(none)",
    Section.TRUE_UP: "Invoice true-up",
    Section.ADJUSTMENT: "Adjustments",
}


@dataclass
class BreakdownRow:
    label: str
    amount: Decimal
    lines: int
    share_pct: Decimal | None  # of the statement's total; None when the total is 0
    others: bool = False  # the row that adds up the smaller rows

    @property
    def bar_pct(self) -> int:
        return 0 if self.share_pct is None else max(0, min(100, int(self.share_pct)))


@dataclass
class Breakdown:
    key: str
    label: str
    rows: list[BreakdownRow]


@dataclass
class StatementSummary:
    """A statement at a glance: its total, against the owner's budget for the month and the owner's statement
    of the month before, and by feature, provider and model.

    Every figure is a sum of the statement's footed line amounts (``StatementLine.amount``), which add up to
    the statement's total exactly, so each breakdown's rows add up to the total to the minor unit too."""

    statement: Statement
    budget: Decimal | None
    budget_currency: str
    previous: Statement | None  # the owner's current statement of the month before
    breakdowns: list[Breakdown]

    @property
    def total(self) -> Decimal:
        return self.statement.total_amount

    @property
    def budget_comparable(self) -> bool:
        """A budget and a statement are compared only in one currency: nothing converts a budget."""
        return self.budget is not None and self.budget_currency == self.statement.currency

    @property
    def budget_used_pct(self) -> Decimal | None:
        if not self.budget_comparable or not self.budget:
            return None
        return (self.total / self.budget * 100).quantize(Decimal("0.1"))

    @property
    def budget_bar_pct(self) -> int:
        used = self.budget_used_pct
        return 0 if used is None else max(0, min(100, int(used)))

    @property
    def budget_left(self) -> Decimal | None:
        """Budget minus charges (negative: over budget)."""
        return self.budget - self.total if self.budget_comparable else None

    @property
    def budget_over(self) -> Decimal | None:
        """By how much the charges exceed the budget; None when they do not (or cannot be compared)."""
        left = self.budget_left
        return -left if left is not None and left < 0 else None

    @property
    def previous_comparable(self) -> bool:
        return self.previous is not None and self.previous.currency == self.statement.currency

    @property
    def previous_change(self) -> Decimal | None:
        return self.total - self.previous.total_amount if self.previous_comparable else None

    @property
    def previous_change_pct(self) -> Decimal | None:
        if not self.previous_comparable or not self.previous.total_amount:
            return None
        return (self.previous_change / self.previous.total_amount * 100).quantize(Decimal("0.1"))


def _share_pct(amount: Decimal, total: Decimal) -> Decimal | None:
    return (amount / total * 100).quantize(Decimal("0.1")) if total else None


def _breakdown(key: str, label: str, lines: list[StatementLine], total: Decimal) -> Breakdown:
    amounts: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for line in lines:
        value = getattr(line, key) or _NO_VALUE[line.section]
        amounts[value] = amounts.get(value, Decimal(0)) + line.amount
        counts[value] = counts.get(value, 0) + 1
    ordered = sorted(amounts, key=lambda value: (-amounts[value], value))
    rows = [BreakdownRow(value, amounts[value], counts[value], _share_pct(amounts[value], total)) for value in ordered]
    if len(rows) > BREAKDOWN_ROWS + 1:
        rest = rows[BREAKDOWN_ROWS:]
        amount = sum((row.amount for row in rest), Decimal(0))
        others = BreakdownRow(
            f"{len(rest)} others", amount, sum(row.lines for row in rest), _share_pct(amount, total), others=True
        )
        rows = [*rows[:BREAKDOWN_ROWS], others]
    return Breakdown(key, label, rows)


@tenant_scoped(via="statement")
def statement_summary(*, statement: Statement, sections: list[SectionView]) -> StatementSummary:
    """The statement's summary, from the lines ``statement_sections`` read (no second read of the lines):
    two queries, the owner's budget for the month and the owner's statement of the month before."""
    lines = [line for section in sections for line in section.lines]
    budget = (
        Budget.objects.filter(
            organization_id=statement.organization_id, owner_id=statement.owner_id, period=statement.period
        )
        .values_list("amount", "currency")
        .first()
    )
    previous = (
        Statement.objects.filter(
            organization_id=statement.organization_id,
            owner_id=statement.owner_id,
            period=month_before(statement.period),
            superseded_by__isnull=True,
        )
        .exclude(status=Statement.Status.WITHDRAWN)
        .order_by("-version")
        .first()
    )
    total = statement.total_amount
    return StatementSummary(
        statement=statement,
        budget=budget[0] if budget else None,
        budget_currency=budget[1] if budget else "",
        previous=previous,
        breakdowns=[
            _breakdown("feature", "By feature", lines, total),
            _breakdown("provider", "By provider", lines, total),
            _breakdown("model", "By model", lines, total),
        ],
    )


@dataclass
class SmallLines:
    """A section's small lines, shown as one row that opens (``<details>``) to list them."""

    lines: list[StatementLine]
    amount: Decimal


@tenant_scoped(via="statement")
def group_small_lines(*, statement: Statement, sections: list[SectionView]) -> None:
    """Move each section's small lines (under ``SMALL_LINE_SHARE`` of the statement's total, in absolute
    value) into ``section.small`` when there are at least ``SMALL_LINES_MIN`` of them; ``section.lines`` keeps
    the others, in order. A line with a dispute is never hidden. The small lines' amounts add up to the
    row's amount, so the section still adds up to its total on the page."""
    limit = abs(statement.total_amount) * SMALL_LINE_SHARE
    for section in sections:
        small = [line for line in section.lines if abs(line.amount) < limit and not getattr(line, "dispute_count", 0)]
        if len(small) < SMALL_LINES_MIN:
            continue
        hidden = {line.pk for line in small}
        section.lines = [line for line in section.lines if line.pk not in hidden]
        section.small = SmallLines(small, sum((line.amount for line in small), Decimal(0)))
