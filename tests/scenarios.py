"""A month's stages, built for tests: reconciled, allocated → issued → closed → reissued.

Each builder makes one stage of a month through the real services (a test factory stands in only where the
fixtures this replaces used one: the reconciliation run with a known outcome, and ``set_state`` for the
period states statements care about) and returns a small dataclass of what it made. A later stage builds on
the earlier one: ``issued`` allocates the month first, ``closed`` takes an ``Issued``, ``reissued`` closes
it and reopens it into version 2. ``reconciled`` and ``allocated`` are the two things a month needs before
review; the workflow helpers at the end (``step``, ``walk``) walk a ``reconciled`` month through the real
transitions and allocate it on submit. Conftests wrap these as fixtures; tests import them from here, never
from another directory's conftest.

Two months are built here (``Month``):

- ``TEAMS``: one tag-map rule ("Teams"), usage on the 3rd for search (CC-1101, $10 input + $5 output),
  ads (CC-1201, $4 input) and untagged ($1 input); no invoice.
- ``SHARED``: usage (openai gpt-4o, USD) allocated by rules "Gateway" (an even split of the
  gateway-healthcheck feature over CC-1101, CC-1201 and CC-1401) and "Teams", true-up full cost, on the 5th:

  - team=search, feature=chat: input 10.004, output 5.003 → CC-1101
  - team=ads, feature=chat: input 4.001 → CC-1201
  - feature=gateway-healthcheck, no team: input 1.00 → split evenly (0.333333334 to CC-1101, ties by code)
  - no tags: input 0.50 → Unallocated

  The openai invoice says 21.508: a true-up of 1.00 over the estimate of 20.508, spread over the owners in
  proportion to their allocated openai cost (Unallocated takes no part). Issued, this gives drafts of
  CC-1101 16.11, CC-1201 4.55 and CC-1401 0.35.

Both use ``tests.factories.allocation.allocation_catalog``: owners CC-1101 Search, CC-1201 Ads, CC-1301
Platform (central), CC-1401 Finance, CC-1901 (inactive).

App code used here: ``apps.allocation.runs.services.allocation_run_create``,
``apps.allocation.rules.services.draft_publish``,
``apps.periods.services.period_transition``, ``apps.statements.services`` (``statements_issue``,
``statements_finalise``), ``apps.disputes.services.dispute_open``, ``apps.taxonomy.services.tagsets_get_or_create``
and models of owners, periods, statements, invoices, allocation, taxonomy and tenancy.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django_scopes import scope

from apps.allocation.models import AllocationRun, RuleSet
from apps.allocation.rules.services import draft_publish
from apps.allocation.runs.services import allocation_run_create
from apps.disputes.services import dispute_open
from apps.invoices.models import ProviderInvoice
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.periods.services import period_transition
from apps.statements.models import Statement, StatementLine
from apps.statements.services import statements_finalise, statements_issue
from apps.taxonomy.models import TagSet
from apps.taxonomy.services import tagsets_get_or_create
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.periods import billing_period_of, set_state
from tests.factories.reconciliation import ReconciliationLineFactory, ReconciliationRunFactory
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory

OCT = datetime.date(2026, 10, 1)
G = 1_000_000_000  # one dollar in nano-units


# --- reconciled -----------------------------------------------------------------------------------


@dataclass
class Reconciled:
    organization: Organization
    period: datetime.date
    run: object  # ReconciliationRun
    invoice: ProviderInvoice


def reconciled(organization, period: datetime.date = OCT, *, within: bool = True) -> Reconciled:
    """A reconciliation run of the month with a known outcome: openai +1.96 % (within); with
    ``within=False`` also anthropic at +6.30 % and mistral with no invoice (outside). The month gets an
    (empty) openai invoice, as a reconciled month has."""
    with scope(organization=organization):
        invoice = ProviderInvoiceFactory(organization=organization, billing_period=period)
        run = ReconciliationRunFactory(
            organization=organization, period=period, status="within" if within else "outside"
        )
        ReconciliationLineFactory(run=run, provider="openai")
        if not within:
            ReconciliationLineFactory(
                run=run,
                provider="anthropic",
                estimated_nano=100 * G,
                invoiced_nano=106_720_000_000,
                variance_nano=6_720_000_000,
                variance_pct=Decimal("6.30"),
                within_tolerance=False,
            )
            ReconciliationLineFactory(
                run=run,
                provider="mistral",
                estimated_nano=3 * G,
                invoiced_nano=None,
                variance_nano=None,
                variance_pct=None,
                within_tolerance=None,
                note="no invoice",
            )
    return Reconciled(organization=organization, period=period, run=run, invoice=invoice)


# --- allocated ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """What a month's allocation is made of: a rules document, cube rows ``(tags, input_nano, output_nano,
    requests)`` on one day of the month, and the openai invoice's total (0: no invoice)."""

    rules: dict
    usage: tuple
    day: int
    invoice_nano: int = 0


TEAMS_RULES = {
    "true_up": {"mode": "full_cost", "central_owner": None},
    "rules": [{"kind": "tag_map", "name": "Teams", "dimension": "team", "conditions": []}],
}

SHARED_RULES = {
    "true_up": {"mode": "full_cost", "central_owner": None},
    "rules": [
        {
            "kind": "shared_pool",
            "name": "Gateway",
            "conditions": [{"field": "tag:feature", "op": "equals", "value": "gateway-healthcheck"}],
            "source": "conditions",
            "method": "even",
            "targets": [{"owner": "CC-1101"}, {"owner": "CC-1201"}, {"owner": "CC-1401"}],
        },
        {"kind": "tag_map", "name": "Teams", "dimension": "team", "conditions": []},
    ],
}

TEAMS = Month(
    rules=TEAMS_RULES,
    usage=(
        ({"team": "search"}, 10 * G, 5 * G, 30),
        ({"team": "ads"}, 4 * G, 0, 12),
        ({}, 1 * G, 0, 3),
    ),
    day=3,
)

SHARED = Month(
    rules=SHARED_RULES,
    usage=(
        ({"team": "search", "feature": "chat"}, 10_004_000_000, 5_003_000_000, 30),
        ({"team": "ads", "feature": "chat"}, 4_001_000_000, 0, 12),
        ({"feature": "gateway-healthcheck"}, 1_000_000_000, 0, 50),
        ({}, 500_000_000, 0, 3),
    ),
    day=5,
    invoice_nano=21_508_000_000,
)


@dataclass
class Allocated:
    organization: Organization
    period: datetime.date
    run: AllocationRun
    owners: dict[str, BudgetOwner]

    @property
    def billing_period(self) -> BillingPeriod:
        return billing_period_of(self.run)


def allocated(organization, period: datetime.date = OCT, *, month: Month = TEAMS, actor=None) -> Allocated:
    """The month allocated by a published rule set (statements are built from it when it goes to review).

    The first call for an organisation makes the catalog, publishes ``month.rules`` and writes its usage
    (and invoice) into ``period``; a later call allocates ``period`` again with what is there."""
    with scope(organization=organization):
        has_rules = RuleSet.objects.filter(organization=organization).exists()
    if has_rules:
        with scope(organization=organization):
            owners = {owner.code: owner for owner in BudgetOwner.objects.filter(organization=organization)}
    else:
        owners = allocation_catalog(organization)
        draft_publish(draft=rule_set_with_draft(organization, month.rules, actor=actor), actor=actor)
        with scope(organization=organization):
            for tags, input_nano, output_nano, requests in month.usage:
                DailyUsageFactory(
                    organization=organization,
                    day=period + datetime.timedelta(days=month.day - 1),
                    tagset=TagSetFactory(organization=organization, tags=tags),
                    cost_input_nano=input_nano,
                    cost_output_nano=output_nano,
                    requests=requests,
                    input_tokens=1000 * requests,
                    output_tokens=100 * requests,
                )
            if month.invoice_nano:
                invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=period)
                InvoiceLineFactory(invoice=invoice, amount_nano=month.invoice_nano)
    run = allocation_run_create(organization=organization, period=period, actor=actor)
    return Allocated(organization=organization, period=period, run=run, owners=owners)


# --- issued ---------------------------------------------------------------------------------------


@dataclass
class Issued:
    organization: Organization
    run: AllocationRun
    owners: dict[str, BudgetOwner]
    billing_period: BillingPeriod
    statements: list[Statement] = field(default_factory=list)

    def statement(self, code: str, version: int = 1) -> Statement:
        with scope(organization=self.organization):
            return Statement.objects.get(owner__code=code, version=version)

    def refresh_period(self) -> BillingPeriod:
        with scope(organization=self.organization):
            self.billing_period = BillingPeriod.objects.get(pk=self.billing_period.pk)
        return self.billing_period


def issued(organization, actor=None, *, period: datetime.date = OCT, owner_user=None) -> Issued:
    """The ``SHARED`` month allocated, put in review and its draft statements issued by ``actor``; then
    ``owner_user`` (if given) owns CC-1101 (Search)."""
    month = allocated(organization, period, month=SHARED)
    billing_period = set_state(month.billing_period, BillingPeriod.State.IN_REVIEW)
    statements = statements_issue(billing_period=billing_period, actor=actor, reason="")
    if owner_user is not None:
        with scope(organization=organization):
            month.owners["CC-1101"].owner_users.add(owner_user)
    return Issued(organization, month.run, month.owners, billing_period, statements)


# --- closed and reissued --------------------------------------------------------------------------


def closed(issued: Issued) -> Issued:
    """The issued month closed: what the close transition does to statements (the drafts become final)."""
    set_state(issued.billing_period, BillingPeriod.State.CLOSED)
    statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
    return issued


def reissued(issued: Issued, *, extra_invoice_nano: int = 0) -> list[Statement]:
    """Close version 1, reopen (version 2), allocate again (optionally with a bigger openai invoice) and
    review: returns version 2's statements."""
    closed(issued)
    billing_period = issued.billing_period
    set_state(billing_period, BillingPeriod.State.OPEN, version=2)
    if extra_invoice_nano:
        with scope(organization=issued.organization):
            invoice = ProviderInvoice.objects.get(provider="openai", billing_period=billing_period.period)
            InvoiceLineFactory(invoice=invoice, amount_nano=extra_invoice_nano, cost_source="output")
    allocation_run_create(organization=issued.organization, period=billing_period.period, actor=None)
    set_state(billing_period, BillingPeriod.State.IN_REVIEW)
    return statements_issue(billing_period=billing_period, actor=None, reason="")


# --- disputes of an issued month ------------------------------------------------------------------


def search_line(issued: Issued, section: str = "direct", cost_source: str = "input") -> StatementLine:
    """A line of CC-1101's (Search) version 1 statement."""
    statement = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        return StatementLine.objects.get(statement=statement, section=section, cost_source=cost_source)


def open_dispute(world, issued: Issued, amount: str = "4.00", line=None, **extra):
    """By default: the budget owner disputes ``amount`` of line 1 of CC-1101's statement (``line=False``: the
    whole statement)."""
    statement = extra.pop("statement", None) or issued.statement("CC-1101")
    return dispute_open(
        statement=statement,
        line=search_line(issued) if line is None else line or None,
        actor=extra.pop("actor", None) or world.user("a", "budget_owner"),
        amount=Decimal(amount),
        reason=extra.pop("reason", "Half of these calls were the ads team's reranker tests."),
        **extra,
    )


# --- the period workflow, walked through its service ----------------------------------------------

# Who does each step unless a test says otherwise: the analyst prepares, the finance admin approves.
STEP_ROLE = {
    "start_reconciliation": Role.FINANCE_ANALYST,
    "submit_for_review": Role.FINANCE_ANALYST,
    "approve": Role.FINANCE_ADMIN,
    "close": Role.FINANCE_ADMIN,
    "reopen": Role.FINANCE_ADMIN,
}
TO_IN_REVIEW = ("start_reconciliation", "submit_for_review")
TO_CLOSED = (*TO_IN_REVIEW, "approve", "close")


def chargeback(organization) -> Organization:
    """The organisation in chargeback mode (statements are charges, not showback)."""
    Organization.objects.filter(pk=organization.pk).update(mode=Organization.Mode.CHARGEBACK)
    organization.refresh_from_db()
    return organization


def second_finance_admin(world, key: str = "a"):
    """Another finance admin of the organisation: the checker beside the maker."""
    organization = world.org(key)
    user = UserFactory(username=f"{organization.slug}-finance_admin2")
    with scope(organization=organization):
        MembershipFactory(organization=organization, user=user, role=Role.FINANCE_ADMIN)
    return user


def step(world, name: str, *, key: str = "a", period: datetime.date = OCT, actor=None, **kwargs) -> BillingPeriod:
    """One transition by the role that usually does it; before submitting for review the analyst allocates
    the month (``allocated``), as statements are built from its allocation."""
    if name == "submit_for_review":
        with scope(organization=world.org(key)):
            has_draft_run = AllocationRun.objects.filter(period=period, status="draft").exists()
        if not has_draft_run:
            allocated(world.org(key), period)
    return period_transition(
        organization=world.org(key),
        period=period,
        transition=name,
        actor=actor or world.user(key, STEP_ROLE[name]),
        **kwargs,
    )


def walk(world, *names: str, key: str = "a", period: datetime.date = OCT) -> BillingPeriod | None:
    billing_period = None
    for name in names:
        billing_period = step(world, name, key=key, period=period)
    return billing_period


# --- usage the demo invoices follow -----------------------------------------------------------------

# (provider, model, day, input nano, output nano, cache read nano, tools nano), all tagged team=search
DEMO_CUBE = [
    ("openai", "gpt-4o", datetime.date(2026, 9, 3), 40 * G, 60 * G, 5 * G, 0),
    ("openai", "gpt-4o-mini", datetime.date(2026, 10, 3), 3 * G, 4 * G, 0, 0),
    ("anthropic", "claude-sonnet-4-5", datetime.date(2026, 10, 9), 70 * G, 90 * G, 12_345_678_901, 1 * G),
    ("google", "gemini-2.5-flash", datetime.date(2026, 11, 20), 8 * G, 12 * G, 0, 0),
]


def demo_cube(organization) -> list:
    """Three months of cube rows (no requests counted) for the demo seeders' tests: the demo invoices
    follow these costs."""
    with scope(organization=organization):
        ids = tagsets_get_or_create(organization=organization, tag_dicts=[{"team": "search"}])
        tagset = TagSet.objects.get(pk=next(iter(ids.values())))
        return [
            DailyUsageFactory(
                organization=organization,
                day=day,
                provider=provider,
                model=model,
                tagset=tagset,
                records=0,
                requests=0,
                cost_input_nano=cost_in,
                cost_output_nano=cost_out,
                cost_cache_read_nano=cost_cache,
                cost_tools_nano=cost_tools,
            )
            for provider, model, day, cost_in, cost_out, cost_cache, cost_tools in DEMO_CUBE
        ]
