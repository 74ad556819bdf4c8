"""A month closed through the real ``close`` transition, with the ERP references a ledger needs.

October (``scenarios.SHARED``) issued in org "a" (drafts CC-1101 16.11, CC-1201 4.55, CC-1401 0.35 USD),
approved, and closed by the finance admin: statements become final, then the journal books them.
``ledger`` gives the cost centres their GL accounts and the organisation its recovery accounts: US01 has
its own (1990-US), every other company code (CC-1201's DE01) takes the default (1990)."""

import pytest
from django_scopes import scope

from apps.journals.models import RecoveryAccount
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.periods.services import period_transition
from tests import scenarios
from tests.factories.periods import set_state

ERP = {
    "CC-1101": {
        "gl_account": "6420",
        "department": "Search",
        "company_code": "US01",
        "erp_class": "AI",
        "location": "NYC",
    },
    "CC-1201": {
        "gl_account": "6430",
        "department": "Ads",
        "company_code": "DE01",
        "erp_class": "AI",
        "location": "BER",
    },
    "CC-1401": {"gl_account": "6440", "department": "Finance", "company_code": "US01", "erp_class": "", "location": ""},
}


def set_erp(organization, *, skip_gl: tuple = ()) -> None:
    with scope(organization=organization):
        for code, values in ERP.items():
            BudgetOwner.objects.filter(code=code).update(
                **{**values, **({"gl_account": ""} if code in skip_gl else {})}
            )


def set_recovery(organization, *, default: bool = True) -> None:
    with scope(organization=organization):
        RecoveryAccount.objects.create(organization=organization, company_code="US01", account="1990-US")
        if default:
            RecoveryAccount.objects.create(organization=organization, company_code="", account="1990")


def approve_and_close(world, issued: scenarios.Issued) -> BillingPeriod:
    """Approve directly (set_state: maker-checker is the periods tests' concern), then the real close."""
    scenarios.chargeback(issued.organization)
    set_state(issued.refresh_period(), BillingPeriod.State.APPROVED)
    period_transition(
        organization=issued.organization,
        period=scenarios.OCT,
        transition="close",
        actor=world.user("a", "finance_admin"),
    )
    return issued.refresh_period()


@pytest.fixture
def issued(world) -> scenarios.Issued:
    return scenarios.issued(world.org("a"), world.user("a", "finance_analyst"))


@pytest.fixture
def ledger(world, issued) -> scenarios.Issued:
    set_erp(world.org("a"))
    set_recovery(world.org("a"))
    return issued


@pytest.fixture
def closed(world, ledger) -> scenarios.Issued:
    approve_and_close(world, ledger)
    return ledger
