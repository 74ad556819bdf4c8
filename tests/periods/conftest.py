"""Helpers for period tests: reconciliation runs with known outcomes and a walk along the workflow."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.allocation.models import AllocationRun, RuleSet
from apps.allocation.runs.services import allocation_run_create
from apps.periods.services import period_transition
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.factories.allocation import allocated_period
from tests.factories.invoices import ProviderInvoiceFactory
from tests.factories.reconciliation import ReconciliationLineFactory, ReconciliationRunFactory

OCT = date(2026, 10, 1)
G = 1_000_000_000

# Who does each step unless a test says otherwise: the analyst prepares, the finance admin approves.
STEP_ROLE = {
    "start_reconciliation": Role.FINANCE_ANALYST,
    "submit_for_review": Role.FINANCE_ANALYST,
    "approve": Role.FINANCE_ADMIN,
    "close": Role.FINANCE_ADMIN,
    "reopen": Role.FINANCE_ADMIN,
}


def allocated(organization, period: date = OCT):
    """The month allocated (statements are built from it when it goes to review): the first call makes the
    allocation catalog and a published rule set with usage (tests.factories.allocation.allocated_period)."""
    with scope(organization=organization):
        has_rules = RuleSet.objects.filter(organization=organization).exists()
    if not has_rules:
        return allocated_period(organization, period=period)
    return allocation_run_create(organization=organization, period=period, actor=None)


def reconciled(organization, period: date = OCT, *, within: bool = True):
    """A reconciliation run of the month: openai +1.96 % (within); with ``within=False`` also anthropic
    at +6.30 % and mistral with no invoice (outside). The month gets an invoice, as a reconciled month has."""
    with scope(organization=organization):
        ProviderInvoiceFactory(organization=organization, billing_period=period)
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
    return run


def chargeback(organization) -> Organization:
    Organization.objects.filter(pk=organization.pk).update(mode=Organization.Mode.CHARGEBACK)
    organization.refresh_from_db()
    return organization


def second_finance_admin(world, key: str = "a"):
    organization = world.org(key)
    user = UserFactory(username=f"{organization.slug}-finance_admin2")
    with scope(organization=organization):
        MembershipFactory(organization=organization, user=user, role=Role.FINANCE_ADMIN)
    return user


def step(world, name: str, *, key: str = "a", period: date = OCT, actor=None, **kwargs):
    """One transition by the role that usually does it; before submitting for review the analyst allocates
    the month, as statements are built from its allocation."""
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


def walk(world, *names: str, key: str = "a", period: date = OCT):
    billing_period = None
    for name in names:
        billing_period = step(world, name, key=key, period=period)
    return billing_period


TO_IN_REVIEW = ("start_reconciliation", "submit_for_review")
TO_CLOSED = (*TO_IN_REVIEW, "approve", "close")


@pytest.fixture
def ready(world):
    """Org "a" in chargeback with October reconciled within tolerance (``step`` allocates it on submit)."""
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    return world
