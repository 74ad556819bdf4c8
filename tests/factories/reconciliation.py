import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.reconciliation.models import ReconciliationLine, ReconciliationRun
from apps.usage.models import DailyUsage


class DailyUsageFactory(DjangoModelFactory[DailyUsage]):
    """A cube cell with known costs; ``estimated_nano`` defaults to the sum of the cost sources."""

    class Meta:
        model = DailyUsage

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    day = datetime.date(2026, 10, 3)
    provider = "openai"
    model = "gpt-4o"
    service_tier = "standard"
    tagset = factory.SubFactory(
        "tests.factories.taxonomy.TagSetFactory", organization=factory.SelfAttribute("..organization")
    )
    records = 1
    requests = 1
    cost_input_nano = 0
    cost_output_nano = 0
    cost_cache_read_nano = 0
    cost_cache_write_nano = 0
    cost_tools_nano = 0
    estimated_nano = factory.LazyAttribute(
        lambda o: o.cost_input_nano
        + o.cost_output_nano
        + o.cost_cache_read_nano
        + o.cost_cache_write_nano
        + o.cost_tools_nano
    )


class ReconciliationRunFactory(DjangoModelFactory[ReconciliationRun]):
    class Meta:
        model = ReconciliationRun

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    period = datetime.date(2026, 10, 1)
    currency = "USD"
    tolerance_pct = Decimal("5.00")
    estimated_nano = 100_000_000_000
    invoiced_nano = 102_000_000_000
    status = ReconciliationRun.Status.WITHIN
    platform_overhead_pct = Decimal("0.00")


class ReconciliationLineFactory(DjangoModelFactory[ReconciliationLine]):
    class Meta:
        model = ReconciliationLine

    run = factory.SubFactory(ReconciliationRunFactory)
    organization = factory.LazyAttribute(lambda o: o.run.organization)
    level = ReconciliationLine.Level.PROVIDER
    provider = "openai"
    key = ""
    estimated_nano = 100_000_000_000
    invoiced_nano = 102_000_000_000
    variance_nano = 2_000_000_000
    variance_pct = Decimal("1.96")
    within_tolerance = True
