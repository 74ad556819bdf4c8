"""Issue 13 item 2: run totals are checked sums. Every cube cell fits in 64 bits, but a month of them
may not: allocation and reconciliation refuse such a month with a message instead of a server error
(PostgreSQL: bigint overflow on save; SQLite: "integer overflow" in SUM or a float)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.allocation.models import AllocationRun
from apps.allocation.runs.services import allocation_run_create
from apps.core.ceilings import MAX_SUM
from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.services import reconciliation_run_create
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import allocated

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)
MESSAGE = (
    "The usage and invoices of 2026-10 add up to more than can be stored (9,223,372,036,854,775,807 nano-units, "
    "about 9.2 billion of the currency). Look for implausible usage or invoice amounts in the period."
)


def two_huge_days(org):
    half = MAX_SUM // 2 + 1  # each cell fits; the two together do not
    with scope(organization=org):
        tagset = TagSetFactory(organization=org, tags={"team": "search", "env": "huge"})
        for day in (10, 11):
            DailyUsageFactory(
                organization=org,
                day=OCT + datetime.timedelta(days=day),
                tagset=tagset,
                cost_input_nano=half,
                estimated_nano=half,
                requests=1,
                rollups=False,  # the month of the two cannot be summed either: no rollup to keep
            )


def test_an_allocation_whose_sums_cannot_be_stored_is_refused_with_a_message(world):
    org = world.org("a")
    first = allocated(org).run
    two_huge_days(org)
    with pytest.raises(ValidationError) as refused:
        allocation_run_create(organization=org, period=OCT, actor=None)
    assert refused.value.messages == [MESSAGE]
    with scope(organization=org):
        assert list(AllocationRun.objects.values_list("pk", flat=True)) == [first.pk]  # the last good run stays


def test_a_reconciliation_whose_sums_cannot_be_stored_is_refused_with_a_message(world):
    org = world.org("a")
    two_huge_days(org)
    with pytest.raises(ValidationError) as refused:
        reconciliation_run_create(organization=org, period=OCT, actor=None)
    assert refused.value.messages == [MESSAGE]
    with scope(organization=org):
        assert not ReconciliationRun.objects.exists()


def test_a_statement_whose_lines_cannot_be_summed_in_64_bits_is_refused(world):
    """A run's lines each fit, and a run with credits can total within range, while one owner's lines
    do not: the statement is refused with a message rather than stored as an overflow or a float."""
    from apps.allocation.models import AllocationLine
    from apps.periods.models import BillingPeriod
    from apps.statements.models import Statement
    from apps.statements.services import statements_issue
    from tests.factories.periods import billing_period_of, set_state
    from tests.scenarios import SHARED

    org = world.org("a")
    run = allocated(org, month=SHARED).run
    with scope(organization=org):
        lines = AllocationLine.objects.filter(run=run, owner__code="CC-1101").order_by("position")
        assert lines.count() >= 2
        AllocationLine.objects.filter(pk__in=[line.pk for line in lines[:2]]).update(amount_nano=MAX_SUM // 2 + 1)
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    with pytest.raises(ValidationError) as refused:
        statements_issue(billing_period=billing_period, actor=None, reason="")
    assert refused.value.messages == [
        "The lines of statement CC-1101 add up to more than can be stored (9,223,372,036,854,775,807 nano-units, "
        "about 9.2 billion of the currency). Look for implausible usage or invoice amounts in the period."
    ]
    with scope(organization=org):
        assert not Statement.objects.filter(owner__code="CC-1101").exists()
