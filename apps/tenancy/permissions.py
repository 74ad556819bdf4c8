"""Role checks for portal views. The role table itself lives in ``roles.py``."""

from functools import wraps

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404


def require_org_perm(request, perm: str) -> None:
    membership = getattr(request, "membership", None)
    if membership is None:
        # Only reachable for a view wired outside /o/<org_slug>/: fail closed.
        raise Http404("No such organisation.")
    if not membership.has_perm(perm):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")


class OrgPermissionRequiredMixin:
    """Class-based views under /o/<org_slug>/ set ``required_perm``."""

    required_perm: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.required_perm is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set required_perm")
        require_org_perm(request, self.required_perm)
        return super().dispatch(request, *args, **kwargs)


def org_perm_required(perm: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require_org_perm(request, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def org_any_perm_required(*perms: str, what: str):
    """For read pages several roles share: any one of ``perms`` lets the member see ``what``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                raise Http404("No such organisation.")
            if not any(membership.has_perm(perm) for perm in perms):
                raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot see {what}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
