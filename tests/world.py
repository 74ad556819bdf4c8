"""The test world: two organisations, a user for every role in each, and a way to act as any of them.

Every cross-tenant test reaches from org "a" into org "b" (and back), like Zulip's realms.
"""

from dataclasses import dataclass, field

from django.test import Client
from django_scopes import scope

from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import SECOND_FACTOR_ROLES, Role, TokenScope
from tests.factories import ApiClientFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.mfa import pass_second_factor


@dataclass
class World:
    orgs: dict[str, Organization] = field(default_factory=dict)
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)

    def org(self, key: str) -> Organization:
        return self.orgs[key]

    def other(self, key: str) -> str:
        return "b" if key == "a" else "a"

    def user(self, key: str, role: str = Role.ORG_ADMIN):
        return self.memberships[(key, role)].user

    def login(self, key: str, role: str = Role.ORG_ADMIN, *, second_factor: bool | None = None) -> Client:
        """A signed-in client. Org and finance admins (and everyone, where the organisation requires it)
        have also passed a real second factor, as they must before approvals and administration;
        ``second_factor=False`` leaves the session unverified."""
        user = self.user(key, role)
        client = Client()
        client.force_login(user)
        if second_factor is None:
            organization = self.orgs[key]
            organization.refresh_from_db(fields=["require_second_factor"])
            second_factor = role in SECOND_FACTOR_ROLES or organization.require_second_factor
        if second_factor:
            pass_second_factor(client, user)
        return client

    def api(self, key: str, scopes: list[str] | None = None) -> Client:
        """An HTTP client carrying a token of org ``key`` with the given scopes (default: all)."""
        organization = self.orgs[key]
        with scope(organization=organization):
            api_client = ApiClientFactory(organization=organization, scopes=scopes or list(TokenScope.values))
        return Client(headers={"Authorization": f"Bearer {api_client.raw_token}"})


def build_world() -> World:
    world = World()
    for key, slug, name in (("a", "alpha", "Alpha Corp"), ("b", "beta", "Beta Ltd")):
        organization = OrganizationFactory(slug=slug, name=name)
        world.orgs[key] = organization
        for role in Role:
            user = UserFactory(username=f"{slug}-{role.value}")
            with scope(organization=organization):
                world.memberships[(key, role.value)] = MembershipFactory(
                    organization=organization, user=user, role=role
                )
    return world
