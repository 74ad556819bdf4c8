import factory
from factory.django import DjangoModelFactory

from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    base_currency = "USD"


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory("tests.factories.accounts.UserFactory")
    role = Role.VIEWER
