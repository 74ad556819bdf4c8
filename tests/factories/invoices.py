import datetime
import hashlib
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.invoices.models import InvoiceIngestError, InvoiceIngestJob, InvoiceLine, InvoiceSettings, ProviderInvoice


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
