"""A hand-built October 2026 with direct, shared and true-up cost, and helpers that move its billing period
through the states the statement hooks care about (the period transitions themselves live in apps.periods).

Usage (openai gpt-4o, USD), allocated by rules "Gateway" (an even split of the gateway-healthcheck feature
over CC-1101, CC-1201 and CC-1401) and "Teams" (the team tag map), true-up full cost:

- team=search, feature=chat: input 10.004, output 5.003 → CC-1101
- team=ads, feature=chat: input 4.001 → CC-1201
- feature=gateway-healthcheck, no team: input 1.00 → split evenly (0.333333334 to CC-1101, ties by code)
- no tags: input 0.50 → Unallocated

The openai invoice says 21.508: a true-up of 1.00 over the estimate of 20.508, spread over the owners in
proportion to their allocated openai cost (Unallocated takes no part).
"""

import datetime

from django_scopes import scope

from apps.allocation.rules.services import draft_publish
from apps.allocation.runs.services import allocation_run_create
from apps.periods.models import BillingPeriod
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.reconciliation import DailyUsageFactory
from tests.factories.taxonomy import TagSetFactory

OCT = datetime.date(2026, 10, 1)
NANO = 10**9

RULES = {
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


def october_allocated(organization, *, period=OCT, invoice_nano: int = 21_508_000_000):
    """Allocate the month described above; returns the draft run."""
    owners = allocation_catalog(organization)
    draft = rule_set_with_draft(organization, RULES)
    draft_publish(draft=draft, actor=None)
    with scope(organization=organization):
        for tags, input_nano, output_nano, requests in [
            ({"team": "search", "feature": "chat"}, 10_004_000_000, 5_003_000_000, 30),
            ({"team": "ads", "feature": "chat"}, 4_001_000_000, 0, 12),
            ({"feature": "gateway-healthcheck"}, 1_000_000_000, 0, 50),
            ({}, 500_000_000, 0, 3),
        ]:
            DailyUsageFactory(
                organization=organization,
                day=period + datetime.timedelta(days=4),
                tagset=TagSetFactory(organization=organization, tags=tags),
                cost_input_nano=input_nano,
                cost_output_nano=output_nano,
                requests=requests,
                input_tokens=1000 * requests,
                output_tokens=100 * requests,
            )
        if invoice_nano:
            invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=period)
            InvoiceLineFactory(invoice=invoice, amount_nano=invoice_nano)
    run = allocation_run_create(organization=organization, period=period, actor=None)
    return run, owners


def set_state(billing_period: BillingPeriod, state: str, *, version: int | None = None) -> BillingPeriod:
    """Put a period in a state directly, past the model's transition guard, with the timestamps the
    database's constraints ask of that state (tests of statements and allocation do not walk the workflow;
    tests/periods and tests/test_full_cycle.py do)."""
    from django.utils import timezone

    now = timezone.now()
    with scope(organization=billing_period.organization_id):
        billing_period.state = state
        if version is not None:
            billing_period.version = version
        order = ["open", "reconciling", "in_review", "approved", "closed"]
        reached = order.index(state)
        billing_period.prepared_at = billing_period.prepared_at or (now if reached >= 2 else None)
        billing_period.approved_at = billing_period.approved_at or (now if reached >= 3 else None)
        billing_period.closed_at = billing_period.closed_at or (now if reached >= 4 else None)
        billing_period._transition_saving = True
        try:
            billing_period.save()
        finally:
            billing_period._transition_saving = False
    return billing_period


def billing_period_of(run) -> BillingPeriod:
    with scope(organization=run.organization_id):
        return BillingPeriod.objects.get(pk=run.billing_period_id)
