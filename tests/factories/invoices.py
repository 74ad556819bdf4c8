import datetime
import hashlib
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.invoices.models import (
    InvoiceIngestError,
    InvoiceIngestJob,
    InvoiceLine,
    InvoiceLineRestatement,
    InvoiceSettings,
    ProviderInvoice,
)


class ProviderInvoiceFactory(DjangoModelFactory[ProviderInvoice]):
    class Meta:
        model = ProviderInvoice

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    provider = "openai"
    invoice_number = factory.Sequence(lambda n: f"INV-{1000 + n}")
    billing_period = datetime.date(2026, 10, 1)
    currency = "USD"
    total_nano = 0
    source_format = "csv"
    source_sha256 = "0" * 64


class InvoiceLineFactory(DjangoModelFactory[InvoiceLine]):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(ProviderInvoiceFactory)
    organization = factory.LazyAttribute(lambda o: o.invoice.organization)
    billing_period = factory.LazyAttribute(lambda o: o.invoice.billing_period)
    charge_period_start = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    charge_period_end = datetime.datetime(2026, 10, 2, tzinfo=datetime.UTC)
    provider = factory.LazyAttribute(lambda o: o.invoice.provider)
    model = "gpt-4o"
    model_raw = "gpt-4o-2024-08-06"
    cost_source = "input"
    amount_nano = 1_250_000_000
    quantity = Decimal("1000")
    currency = "USD"
    line_key = factory.Sequence(lambda n: hashlib.sha256(f"line-{n}".encode()).hexdigest())


class InvoiceIngestJobFactory(DjangoModelFactory[InvoiceIngestJob]):
    class Meta:
        model = InvoiceIngestJob

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    channel = InvoiceIngestJob.Channel.COMMAND
    format = "csv"
    file_name = "invoice.csv"
    sha256 = "1" * 64
    payload = "none.bin"
    status = InvoiceIngestJob.Status.SUCCEEDED


class InvoiceIngestErrorFactory(DjangoModelFactory[InvoiceIngestError]):
    class Meta:
        model = InvoiceIngestError

    job = factory.SubFactory(InvoiceIngestJobFactory)
    organization = factory.LazyAttribute(lambda o: o.job.organization)
    line = 2
    field = "amount"
    message = "must be a decimal number"


class InvoiceSettingsFactory(DjangoModelFactory[InvoiceSettings]):
    class Meta:
        model = InvoiceSettings
        django_get_or_create = ("organization",)

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")


class InvoiceLineRestatementFactory(DjangoModelFactory[InvoiceLineRestatement]):
    """A cost-report line superseded by a later pull: 10.00 then 12.50."""

    class Meta:
        model = InvoiceLineRestatement

    invoice = factory.SubFactory(ProviderInvoiceFactory, source_format="openai-costs")
    organization = factory.LazyAttribute(lambda o: o.invoice.organization)
    superseded_by_job = factory.LazyAttribute(lambda o: InvoiceIngestJobFactory(organization=o.invoice.organization))
    bucket_key = factory.Sequence(lambda n: hashlib.sha256(f"bucket-{n}".encode()).hexdigest())
    line_key = factory.Sequence(lambda n: hashlib.sha256(f"restated-{n}".encode()).hexdigest())
    billing_period = factory.LazyAttribute(lambda o: o.invoice.billing_period)
    charge_period_start = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    charge_period_end = datetime.datetime(2026, 10, 2, tzinfo=datetime.UTC)
    provider = factory.LazyAttribute(lambda o: o.invoice.provider)
    model = "gpt-4o"
    cost_source = "input"
    amount_nano = 10_000_000_000
    new_amount_nano = 12_500_000_000
    currency = "USD"
    superseded_at = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
