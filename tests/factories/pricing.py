import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.pricing.models import AiModel, PriceOverride, PriceRow, Provider


class ProviderFactory(DjangoModelFactory[Provider]):
    class Meta:
        model = Provider
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"provider-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class AiModelFactory(DjangoModelFactory[AiModel]):
    class Meta:
        model = AiModel
        django_get_or_create = ("provider", "code")

    provider = factory.SubFactory(ProviderFactory)
    code = factory.Sequence(lambda n: f"model-{n}")
    display_name = factory.LazyAttribute(lambda o: o.code)


class PriceRowFactory(DjangoModelFactory[PriceRow]):
    class Meta:
        model = PriceRow

    model = factory.SubFactory(AiModelFactory)
    provider = factory.LazyAttribute(lambda o: o.model.provider)
    service_tier = "standard"
    usage_type = "input"
    unit = "1m_tokens"
    price = Decimal("1.00")
    currency = "USD"
    effective_from = datetime.date(2025, 1, 1)
    source = "https://example.com/pricing"
    source_date = datetime.date(2025, 11, 15)


class PriceOverrideFactory(DjangoModelFactory[PriceOverride]):
    class Meta:
        model = PriceOverride

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    provider = factory.SubFactory(ProviderFactory)
    model = None
    discount_pct = Decimal("10.00")
    effective_from = datetime.date(2025, 1, 1)
