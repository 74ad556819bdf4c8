from apps.tenancy.selectors import memberships_for_user

from .navigation import nav_groups_for


def portal(request) -> dict:
    user = getattr(request, "user", None)
    nav_groups = nav_groups_for(request)
    return {
        "current_org": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "nav_groups": nav_groups,
        "nav_items": [item for group in nav_groups for item in group["items"]],
        "my_memberships": memberships_for_user(user=user) if user is not None else [],
    }
