from dataclasses import dataclass

import pytest
from django_scopes import scope

from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.statements.services import statements_issue
from tests.factories.statements import billing_period_of, october_allocated, set_state


@dataclass
class Issued:
    organization: object
    run: object
    owners: dict
    billing_period: BillingPeriod

    def statement(self, code: str, version: int = 1) -> Statement:
        with scope(organization=self.organization):
            return Statement.objects.get(owner__code=code, version=version)

    def refresh_period(self) -> BillingPeriod:
        with scope(organization=self.organization):
            self.billing_period = BillingPeriod.objects.get(pk=self.billing_period.pk)
        return self.billing_period


def issue_october(organization, actor=None) -> Issued:
    run, owners = october_allocated(organization)
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    statements_issue(billing_period=billing_period, actor=actor, reason="")
    return Issued(organization, run, owners, billing_period)


@pytest.fixture
def issued(world) -> Issued:
    return issue_october(world.org("a"), world.user("a", "finance_analyst"))
