import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.reconciliation.models import ReconciliationLine, ReconciliationRun


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
