import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.owners.models import Budget, BudgetOwner


class BudgetOwnerFactory(DjangoModelFactory[BudgetOwner]):
    class Meta:
        model = BudgetOwner
        skip_postgeneration_save = True

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    code = factory.Sequence(lambda n: f"CC-{5000 + n}")
    name = factory.LazyAttribute(lambda o: f"Cost centre {o.code}")
    gl_account = "6420-AI-Services"
    company_code = "US01"

    @factory.post_generation
    def owner_users(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.owner_users.set(extracted)


class BudgetFactory(DjangoModelFactory[Budget]):
    class Meta:
        model = Budget

    owner = factory.SubFactory(BudgetOwnerFactory)
    organization = factory.LazyAttribute(lambda o: o.owner.organization)
    period = datetime.date(2026, 10, 1)
    amount = Decimal("10000.00")
    currency = "USD"
