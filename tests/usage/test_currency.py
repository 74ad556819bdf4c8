"""Usage amounts keep their own currency: a record carries the currency of the price rows that priced it,
and a cube cell (daily, detail, monthly) holds one currency, so amounts of two currencies are never added."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.pricing.models import AiModel, PriceRow, Provider
from apps.usage.models import DailyDetailUsage, DailyUsage, MonthlyDetailUsage, MonthlyUsage, UsageRecord
from apps.usage.selectors import MixedCurrencies, cube_sum, cube_sum_by_currency

from .test_ingest import SONNET_EVENT_NANO, event, ingest, ndjson

pytestmark = pytest.mark.django_db

# 1,000,000 input x 2 EUR/M + 200,000 output x 6 EUR/M
EURO_EVENT_NANO = 2_000_000_000 + 1_200_000_000


@pytest.fixture
def euro_model(price_book):
    return make_euro_model()


def make_euro_model():
    """A model listed in EUR (a made-up European provider: the shipped book is all USD)."""
    provider, _ = Provider.objects.get_or_create(code="euro-ai", defaults={"name": "Euro AI"})
    model = AiModel.objects.create(provider=provider, code="euro-large", display_name="Euro Large")
    for usage_type, price in (("input", "2"), ("output", "6")):
        PriceRow.objects.create(
            provider=provider,
            model=model,
            usage_type=usage_type,
            unit="1m_tokens",
            price=Decimal(price),
            currency="EUR",
            effective_from=date(2026, 1, 1),
            source="test price list",
            source_date=date(2026, 1, 1),
        )
    return model


def euro_event(rid="eu-1"):
    return event(
        rid,
        provider="euro-ai",
        model="euro-large",
        usage={"input_tokens": 1_000_000, "output_tokens": 200_000},
        tool_calls={},
    )


def test_the_shipped_book_prices_in_usd_and_every_cell_says_so(catalog):
    org = catalog.org("a")
    job = ingest(org, ndjson(event()))
    assert job.accepted == 1
    with scope(organization=org):
        assert list(UsageRecord.objects.values_list("currency", "estimated_nano")) == [("USD", SONNET_EVENT_NANO)]
        for table in (DailyUsage, DailyDetailUsage, MonthlyUsage, MonthlyDetailUsage):
            assert list(table.objects.values_list("currency", "estimated_nano")) == [("USD", SONNET_EVENT_NANO)]


def test_a_euro_priced_row_gets_its_own_cells_never_summed_with_usd(catalog, euro_model):
    org = catalog.org("a")
    job = ingest(org, ndjson(event("us-1"), euro_event()))
    assert (job.accepted, job.rejected) == (2, 0)
    with scope(organization=org):
        assert sorted(UsageRecord.objects.values_list("request_id", "currency", "estimated_nano")) == [
            ("eu-1", "EUR", EURO_EVENT_NANO),
            ("us-1", "USD", SONNET_EVENT_NANO),
        ]
        # Same day, same tags: two cells, one per currency, in every cube table.
        assert sorted(DailyUsage.objects.values_list("currency", "provider", "estimated_nano")) == [
            ("EUR", "euro-ai", EURO_EVENT_NANO),
            ("USD", "anthropic", SONNET_EVENT_NANO),
        ]
        assert sorted(DailyDetailUsage.objects.values_list("value", "currency", "estimated_nano")) == [
            ("cust_042", "EUR", EURO_EVENT_NANO),
            ("cust_042", "USD", SONNET_EVENT_NANO),
        ]
        assert sorted(MonthlyUsage.objects.values_list("currency", "estimated_nano")) == [
            ("EUR", EURO_EVENT_NANO),
            ("USD", SONNET_EVENT_NANO),
        ]
        assert sorted(MonthlyDetailUsage.objects.values_list("currency", "estimated_nano")) == [
            ("EUR", EURO_EVENT_NANO),
            ("USD", SONNET_EVENT_NANO),
        ]
    # The selectors that feed reconciliation and periods: per currency, and a single sum is refused.
    for first, after in ((date(2026, 10, 1), date(2026, 11, 1)), (date(2026, 10, 3), date(2026, 10, 4))):
        assert cube_sum_by_currency(organization=org, first=first, after=after) == {
            "EUR": EURO_EVENT_NANO,
            "USD": SONNET_EVENT_NANO,
        }
        assert cube_sum(organization=org, first=first, after=after, currency="EUR") == EURO_EVENT_NANO
        with pytest.raises(MixedCurrencies):
            cube_sum(organization=org, first=first, after=after)
    # Re-sending both is two duplicates: the currency is no part of an event's identity.
    again = ingest(org, ndjson(event("us-1"), euro_event()))
    assert (again.accepted, again.duplicates) == (0, 2)
