"""Usage and invoices tell the exchange-rates page which rates the periods still to be run need: a EUR
organisation with USD usage and a USD invoice sees the days the shipped ECB history does not cover (it ends
2026-10-30), and nothing for periods already approved or closed, nor for amounts in its own currency."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.fx.selectors import demanded_gaps
from apps.invoices.selectors import rate_demand as invoice_demand
from apps.periods.models import BillingPeriod
from apps.usage.rollups import rollups_rebuild
from apps.usage.selectors import rate_demand as usage_demand
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.periods import BillingPeriodFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

G = 1_000_000_000
CLOSED, APPROVED = BillingPeriod.State.CLOSED, BillingPeriod.State.APPROVED


def _utc(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


@pytest.fixture
def globex_like(world, ecb_rates):
    organization = world.org("a")
    organization.base_currency = "EUR"
    organization.save()
    with scope(organization=organization):
        for day, currency in [
            (datetime.date(2026, 10, 5), "USD"),
            (datetime.date(2026, 11, 3), "USD"),
            (datetime.date(2026, 11, 20), "USD"),
            (datetime.date(2026, 11, 24), "EUR"),  # in the base currency: needs no rate
        ]:
            DailyUsageFactory(organization=organization, day=day, currency=currency, cost_input_nano=G)
        rollups_rebuild(organization=organization)
        invoice = ProviderInvoiceFactory(
            organization=organization, provider="anthropic", billing_period=datetime.date(2026, 11, 1), currency="USD"
        )
        InvoiceLineFactory(
            invoice=invoice,
            currency="USD",
            amount_nano=5 * G,
            charge_period_start=_utc(datetime.date(2026, 11, 1)),
            charge_period_end=_utc(datetime.date(2026, 12, 1)),  # exclusive: the whole of November
        )
    return organization


def test_usage_and_invoices_name_the_days_they_need_per_period(globex_like):
    organization = globex_like
    with scope(organization=organization):
        assert usage_demand(organization=organization) == [
            ("USD", datetime.date(2026, 10, 5), datetime.date(2026, 10, 5)),
            ("USD", datetime.date(2026, 11, 3), datetime.date(2026, 11, 20)),
        ]
        assert invoice_demand(organization=organization) == [
            ("USD", datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
        ]
        gaps = demanded_gaps(organization=organization)
    # October is covered by the shipped history; November's working days are not (Sunday 11-01 may still use
    # Friday 10-30's rate, Monday 11-02 may not).
    assert [gap.message for gap in gaps] == [
        "No ECB exchange rate for USD on 2026-11-02 to 2026-11-30 (the last USD rate loaded is of 2026-10-30)."
    ]


def test_settled_periods_need_no_more_rates(globex_like):
    organization = globex_like
    with scope(organization=organization):
        BillingPeriodFactory(organization=organization, period=datetime.date(2026, 10, 1), state=CLOSED)
        BillingPeriodFactory(organization=organization, period=datetime.date(2026, 11, 1), state=APPROVED)
        assert usage_demand(organization=organization) == []
        assert invoice_demand(organization=organization) == []
        assert demanded_gaps(organization=organization) == []


def test_the_page_lists_the_gap_that_will_stop_a_run(world, globex_like):
    url = reverse("fx:exchange_rates", kwargs={"org_slug": globex_like.slug})
    body = world.login("a").get(url).content.decode()
    assert "No ECB exchange rate for USD on 2026-11-02 to 2026-11-30" in body
    assert "No gap" not in body
    # Another organisation's usage never shows here.
    other = world.login("b").get(reverse("fx:exchange_rates", kwargs={"org_slug": world.org("b").slug}))
    assert "2026-11-02 to 2026-11-30" not in other.content.decode()
