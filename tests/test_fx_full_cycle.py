"""An organisation that keeps its books in EUR and is billed in USD and EUR (globex's shape), end to end:

USD estimates and a USD invoice line are converted once at the ECB reference rates (usage-day policy), an EUR
invoice line is taken as it is, the allocation run stores its rates and conserves exactly, the statements
issued from it add up to the allocated amount to the nano and say how they were converted (page, CSV, API),
a month after the last loaded rate is refused naming the gap, the owner panel does not compare a USD budget
with EUR charges, and the base currency can no longer change.

Figures: the ``SHARED`` month (tests/scenarios.py) on 2026-10-05, where the ECB quotes 1.1204 USD per EUR
(package history, eurofxref-hist.csv); its openai invoice line of 21.508 USD is a one-day line of 2026-10-01
(1.1298 USD per EUR), plus a 1.00 EUR line for the whole of October. Each amount converted on its own and
rounded once, half to even, to the nano:

- estimate: 10.004 → 8.928953945, 5.003 → 4.465369511, 4.001 → 3.571046055, 1.00 → 0.892538379,
  0.50 → 0.446269190 (untagged): 18.304177080 EUR;
- openai invoice: 21.508 USD → 19.036997699 EUR, + 1.000000000 EUR = 20.036997699 EUR;
- true-up 1.732820619, pool 20.036997699, Unallocated 0.446269190, charged 19.590728509 EUR.
"""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from apps.accounts.services import organization_update
from apps.allocation.models import AllocationLine, AllocationRun
from apps.allocation.runs.selectors import run_conversion
from apps.allocation.runs.services import allocation_run_create
from apps.fx.models import Conversion, ConversionLine
from apps.fx.services import ecb_rates_load
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.statements.services import statements_issue
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role, TokenScope
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.owners import BudgetFactory
from tests.factories.periods import set_state
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import SHARED, allocated

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
G = 1_000_000_000

ESTIMATED = 18_304_177_080
INVOICED = 20_036_997_699
UNALLOCATED = 446_269_190
CHARGED = INVOICED - UNALLOCATED  # 19.590728509
CONVERSION_TEXT = (
    "Converted from USD at the ECB reference rates of the usage days (2 rates from 2026-10-01 to 2026-10-05, "
    "1.1298–1.1204 USD per EUR; effective 0.888737 EUR per USD: 42.016 USD → 37.341174779 EUR)."
)


@pytest.fixture
def euro_org(world):
    """Org "b" keeping its books in EUR, with the ECB history of September 2026 on loaded from the package."""
    organization = world.org("b")
    Organization.objects.filter(pk=organization.pk).update(base_currency="EUR")
    organization.refresh_from_db()
    ecb_rates_load(since=datetime.date(2026, 9, 1))
    with scope(organization=organization):
        # Billed in EUR too: a monthly line that needs no rate.
        invoice = ProviderInvoiceFactory(
            organization=organization, provider="openai", billing_period=OCT, currency="EUR", invoice_number="AZ-1"
        )
        InvoiceLineFactory(
            invoice=invoice,
            currency="EUR",
            amount_nano=1 * G,
            charge_period_start=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
            charge_period_end=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
        )
    return organization


def test_a_euro_organisation_is_allocated_charged_and_explained_in_euro(world, euro_org):
    month = allocated(euro_org, month=SHARED)
    run = month.run
    assert (run.currency, run.estimated_nano, run.true_up_nano, run.pool_total_nano) == (
        "EUR",
        ESTIMATED,
        INVOICED - ESTIMATED,
        INVOICED,
    )
    assert (run.unallocated_nano, run.allocated_nano, run.invoice_totals) == (
        UNALLOCATED,
        CHARGED,
        {"openai": INVOICED},
    )
    with scope(organization=euro_org):
        assert sum(AllocationLine.objects.filter(run=run).values_list("amount_nano", flat=True)) == INVOICED
        lines = list(
            ConversionLine.objects.filter(conversion_id=run.conversion_id)
            .order_by("for_day")
            .values_list("from_currency", "for_day", "rate_day", "amount_nano", "converted_nano", "amounts")
        )
        assert Conversion.objects.get(pk=run.conversion_id).purpose == "allocation 2026-10"
    assert lines == [
        ("USD", datetime.date(2026, 10, 1), datetime.date(2026, 10, 1), 21_508 * G // 1000, 19_036_997_699, 1),
        ("USD", datetime.date(2026, 10, 5), datetime.date(2026, 10, 5), 20_508 * G // 1000, ESTIMATED, 5),
    ]
    conversion = run_conversion(run=run)
    assert conversion.text == CONVERSION_TEXT

    # Allocating again with the same usage, invoices, rules and rates keeps the run (and its rates).
    assert allocation_run_create(organization=euro_org, period=OCT, actor=None).pk == run.pk
    with scope(organization=euro_org):
        assert Conversion.objects.count() == 1

    # Statements: in EUR, adding up to what the run allocated, to the nano.
    billing_period = set_state(month.billing_period, BillingPeriod.State.IN_REVIEW)
    issued = statements_issue(billing_period=billing_period, actor=None, reason="")
    assert {s.currency for s in issued} == {"EUR"}
    assert sum(s.total_nano for s in issued) == CHARGED
    with scope(organization=euro_org):
        assert AllocationRun.objects.get(pk=run.pk).status == "issued"
        search = Statement.objects.get(owner__code="CC-1101")

    finance = world.login("b", Role.FINANCE_ADMIN)
    kwargs = {"org_slug": "beta", "pk": search.pk}
    html = finance.get(reverse("statements:detail", kwargs=kwargs)).content.decode()
    assert CONVERSION_TEXT.replace("'", "&#x27;") in html
    printed = finance.get(reverse("statements:print", kwargs=kwargs)).content.decode()
    assert "Converted from USD at the ECB reference rates of the usage days" in printed
    rows = list(csv.DictReader(io.StringIO(finance.get(reverse("statements:export", kwargs=kwargs)).content.decode())))
    assert {row["exchange_rates"] for row in rows} == {CONVERSION_TEXT}
    assert {row["currency"] for row in rows} == {"EUR"}
    detail = world.api("b", scopes=[TokenScope.STATEMENTS_READ]).get(f"/api/v1/statements/{search.pk}/").json()
    assert detail["conversion"] == {
        "allocation_run": run.pk,
        "base_currency": "EUR",
        "policy": "usage_day",
        "fx_source": "ecb",
        "text": CONVERSION_TEXT,
        "currencies": [
            {
                "from_currency": "USD",
                "to_currency": "EUR",
                "amount": "42.016000000",
                "converted": "37.341174779",
                "rates": 2,
                "first_day": "2026-10-01",
                "last_day": "2026-10-05",
                "effective_rate": "0.888737023491",
            }
        ],
    }
    # Another organisation's member sees neither the statement nor its rates.
    assert (
        world.login("a", Role.FINANCE_ADMIN)
        .get(reverse("statements:detail", kwargs={"org_slug": "alpha", "pk": search.pk}))
        .status_code
        == 404
    )

    # The owner panel does not compare a USD budget (made before budgets had to be in EUR) with EUR charges.
    owner_user = world.user("b", Role.BUDGET_OWNER)
    with scope(organization=euro_org):
        month.owners["CC-1101"].owner_users.add(owner_user)
        BudgetFactory(organization=euro_org, owner=month.owners["CC-1101"], period=OCT, currency="USD")
    home = world.login("b", Role.BUDGET_OWNER).get(reverse("portal:home", kwargs={"org_slug": "beta"}))
    assert "budget in USD, charges in EUR: not compared" in home.content.decode()
    assert home.context["owner_panel"].used_pct is None

    # The base currency is fixed now: refused with the first count, nothing changed.
    with scope(organization=euro_org), pytest.raises(ValidationError) as refused:
        organization_update(
            organization=euro_org,
            actor=world.user("b"),
            name=euro_org.name,
            base_currency="USD",
            variance_tolerance_pct=euro_org.variance_tolerance_pct,
        )
    assert refused.value.message_dict == {
        "base_currency": [
            "The base currency of Beta Ltd, EUR, is fixed: 1 budget is in EUR. Nothing is re-converted; open a "
            "new organisation for another base currency."
        ]
    }
    euro_org.refresh_from_db()
    assert euro_org.base_currency == "EUR"


def test_a_month_after_the_last_loaded_rate_is_refused_never_converted_at_one(world, euro_org):
    allocated(euro_org, month=SHARED)
    with scope(organization=euro_org):
        DailyUsageFactory(
            organization=euro_org,
            day=datetime.date(2026, 11, 2),
            tagset=TagSetFactory(organization=euro_org, tags={"team": "search"}),
            cost_input_nano=3 * G,
        )
    with pytest.raises(ValidationError) as refused:
        allocation_run_create(organization=euro_org, period=NOV, actor=None)
    assert refused.value.messages == [
        "The usage and invoices of 2026-11 cannot be allocated in EUR: No ECB exchange rate for USD on 2026-11-02 "
        "(the last USD rate loaded is of 2026-10-30). A rate is never assumed: load the missing rates (the ECB "
        "history with the load_fx_rates command, or your own rates on the exchange-rates settings page) and "
        "allocate again."
    ]
    with scope(organization=euro_org):
        assert not AllocationRun.objects.filter(period=NOV).exists()
        assert Conversion.objects.count() == 1  # October's only


def test_a_usd_organisation_converts_nothing_and_its_runs_hash_as_before(world, euro_org):
    run = allocated(world.org("a"), month=SHARED).run
    assert (run.currency, run.conversion_id, run.pool_total_nano) == ("USD", None, 21_508 * G // 1000)
    assert run_conversion(run=run) is None
    with scope(organization=world.org("a")):
        assert Conversion.objects.count() == 0


def test_a_run_never_points_at_another_organisations_conversion(world, euro_org):
    """The run's rates are its organisation's: the model refuses another organisation's conversion, and the
    database's composite key refuses it too when the model is bypassed."""
    euro_run = allocated(euro_org, month=SHARED).run
    usd_run = allocated(world.org("a"), month=SHARED).run
    usd_run.conversion_id = euro_run.conversion_id
    with pytest.raises(ValidationError) as refused:
        usd_run.save(update_fields=["conversion"])
    assert refused.value.message_dict == {
        "conversion": ["Conversion must belong to the same organisation as this allocation run."]
    }
    if connection.vendor == "postgresql":
        # The composite (organization, conversion) key exists on PostgreSQL only (apps/tenancy/keys.py); on
        # SQLite the model check above is the guard.
        with pytest.raises(IntegrityError), transaction.atomic(), scopes_disabled():
            AllocationRun.objects.filter(pk=usd_run.pk).update(conversion_id=euro_run.conversion_id)
    with scope(organization=world.org("a")):
        assert AllocationRun.objects.get(pk=usd_run.pk).conversion_id is None
        # nor does another organisation's scope see the conversion at all
        assert not Conversion.objects.filter(pk=euro_run.conversion_id).exists()
