from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django_scopes import scopes_disabled

from .models import Membership, Organization
from .scoping import tenant_scoped


def memberships_for_user(*, user: AbstractBaseUser) -> list[Membership]:
    """Every organisation the user belongs to, for the switcher. Crosses tenants on purpose: it
    only ever returns the user's own memberships."""
    if not user.is_authenticated:
        return []
    with scopes_disabled():
        return list(Membership.objects.filter(user=user).select_related("organization").order_by("organization__name"))


@tenant_scoped
def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__username")


def organizations_where_user_may(*, user: AbstractBaseUser, perm: str) -> list[Organization]:
    return [m.organization for m in memberships_for_user(user=user) if m.has_perm(perm)]
