from apps.tenancy.selectors import memberships_for_user

from .navigation import nav_for


def portal(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "current_org": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "nav_items": nav_for(request),
        "my_memberships": memberships_for_user(user=user) if user is not None else [],
    }
