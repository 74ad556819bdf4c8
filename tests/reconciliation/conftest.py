"""A hand-built October 2026 for org "a": a usage cube and invoices with known nano values.

Per provider (USD):
- openai: estimated 95.00, invoiced 100.00 (daily lines by model and cost source + a 2.00 monthly tax line):
  variance 5.00 = exactly 5.00 %, within the 5 % tolerance (the boundary).
- anthropic: estimated 94.99, invoiced 100.00 (monthly lines by model and cost source): 5.01 %, outside.
- mistral: estimated 3.00 and no invoice.
- google: invoiced 7.00 with no usage, plus 12.40 of non-AI storage on the same bill.

Tag sets (requests / estimated):
- SEARCH   team=search (owned),   feature, environment: 1203 / 157.99
- PLATFORM team=platform (central owner):                500 /  20.00
- NO_TEAM  feature only (no team, no environment):        30 /   5.00
- GHOST    team=ghost (a value with no owner), no feature: 7 /  10.00
"""

import datetime
from dataclasses import dataclass

import pytest
from django_scopes import scope

from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagSetFactory, TagValueFactory
from tests.factories.usage import DailyDetailUsageFactory, DailyUsageFactory

OCT = datetime.date(2026, 10, 1)
G = 1_000_000_000  # one dollar in nano-units

SEARCH = {"team": "search", "feature": "answers", "environment": "prod"}
PLATFORM = {"team": "platform", "feature": "gateway", "environment": "prod"}
NO_TEAM = {"feature": "answers"}
GHOST = {"team": "ghost", "environment": "prod"}


def utc(day: int, month: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, tzinfo=datetime.UTC)


MONTH_START, MONTH_END = utc(1), utc(1, 11)


@dataclass
class October:
    organization: object
    tagsets: dict


def build_october(organization) -> October:
    with scope(organization=organization):
        team = TagDimensionFactory(organization=organization, key="team", required=True, position=10)
        TagDimensionFactory(organization=organization, key="feature", required=True, position=20)
        TagDimensionFactory(organization=organization, key="environment", required=True, position=30)
        TagDimensionFactory(organization=organization, key="customer", required=True, position=40, granularity="detail")
        TagDimensionFactory(organization=organization, key="cost_center", required=False, position=50)
        central = BudgetOwnerFactory(organization=organization, code="CC-PLAT", is_central=True)
        search_owner = BudgetOwnerFactory(organization=organization, code="CC-SEARCH")
        TagValueFactory(dimension=team, value="search", owner=search_owner)
        TagValueFactory(dimension=team, value="platform", owner=central)
        TagValueFactory(dimension=team, value="ghost", owner=None)

        sets = {
            name: TagSetFactory(organization=organization, tags=tags)
            for name, tags in (("search", SEARCH), ("platform", PLATFORM), ("no_team", NO_TEAM), ("ghost", GHOST))
        }

        def cell(day, provider, model, tagset, requests, **costs):
            return DailyUsageFactory(
                organization=organization,
                day=datetime.date(2026, 10, day) if isinstance(day, int) else day,
                provider=provider,
                model=model,
                tagset=sets[tagset],
                records=requests,
                requests=requests,
                **costs,
            )

        cell(3, "openai", "gpt-4o", "search", 1000, cost_input_nano=40 * G, cost_output_nano=30 * G)
        cell(4, "openai", "gpt-4o-mini", "platform", 500, cost_input_nano=10 * G, cost_output_nano=10 * G)
        cell(4, "openai", "gpt-4o", "no_team", 30, cost_input_nano=5 * G)
        cell(
            5,
            "anthropic",
            "claude-sonnet-4-5",
            "search",
            200,
            cost_input_nano=50 * G,
            cost_output_nano=30 * G,
            cost_cache_read_nano=4_990_000_000,
        )
        cell(5, "anthropic", "claude-sonnet-4-5", "ghost", 7, cost_output_nano=10 * G)
        cell(6, "mistral", "mistral-large", "search", 3, cost_input_nano=3 * G)
        # Neighbouring months: never part of October's figures.
        cell(datetime.date(2026, 9, 30), "openai", "gpt-4o", "search", 99, cost_input_nano=999 * G)
        cell(datetime.date(2026, 11, 1), "anthropic", "claude-sonnet-4-5", "search", 99, cost_input_nano=999 * G)
        DailyDetailUsageFactory(
            organization=organization,
            day=datetime.date(2026, 10, 3),
            value="cust_1",
            team="search",
            requests=1500,
            estimated_nano=150 * G,
        )

        openai = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=OCT)

        def line(invoice, model, source, amount, start=None, end=None, **extra):
            return InvoiceLineFactory(
                invoice=invoice,
                model=model,
                cost_source=source,
                amount_nano=amount,
                charge_period_start=start or MONTH_START,
                charge_period_end=end or MONTH_END,
                **extra,
            )

        line(openai, "gpt-4o", "input", 42 * G, utc(3), utc(4))
        line(openai, "gpt-4o", "output", 31 * G, utc(3), utc(4))
        line(openai, "gpt-4o", "input", 5 * G, utc(4), utc(5))
        line(openai, "gpt-4o-mini", "input", 10 * G, utc(4), utc(5))
        line(openai, "gpt-4o-mini", "output", 10 * G, utc(4), utc(5))
        line(openai, "", "other", 2 * G, charge_category="Tax")

        anthropic = ProviderInvoiceFactory(organization=organization, provider="anthropic", billing_period=OCT)
        line(anthropic, "claude-sonnet-4-5", "input", 52 * G)
        line(anthropic, "claude-sonnet-4-5", "output", 42 * G)
        line(anthropic, "claude-sonnet-4-5", "cache_read", 6 * G)

        google = ProviderInvoiceFactory(organization=organization, provider="google", billing_period=OCT)
        line(google, "gemini-2.5-flash", "output", 7 * G, utc(7), utc(8))
        line(google, "", "other", 12_400_000_000, is_ai=False, service="Cloud Storage")

        # Another month's bill: not October's.
        september = ProviderInvoiceFactory(
            organization=organization, provider="openai", billing_period=datetime.date(2026, 9, 1)
        )
        line(september, "gpt-4o", "input", 500 * G, utc(1, 9), utc(2, 9))
    return October(organization=organization, tagsets=sets)


@pytest.fixture
def october(world) -> October:
    return build_october(world.org("a"))
