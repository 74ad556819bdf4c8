from .accounts import ApiClientFactory, UserFactory
from .tenancy import MembershipFactory, OrganizationFactory

__all__ = ["ApiClientFactory", "MembershipFactory", "OrganizationFactory", "UserFactory"]
