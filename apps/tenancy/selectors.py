from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django_scopes import scopes_disabled

from .models import Membership, Organization
from .roles import ROLE_PERMS
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


@tenant_scoped
def member_emails(
    *, organization: Organization, perm: str | None = None, role: str | None = None, exclude_user_id=None
) -> list[str]:
    """The e-mail addresses (each once, in order, blanks left out) of the organisation's active members whose
    role holds ``perm`` or is ``role``, other than ``exclude_user_id``: who a notification goes to."""
    members = Membership.objects.filter(organization=organization, user__is_active=True).exclude(user__email="")
    if perm is not None:
        members = members.filter(role__in=[name for name, perms in ROLE_PERMS.items() if perm in perms])
    if role is not None:
        members = members.filter(role=role)
    if exclude_user_id is not None:
        members = members.exclude(user_id=exclude_user_id)
    return sorted(set(members.values_list("user__email", flat=True)))
