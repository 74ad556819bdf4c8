"""Role checks for portal views. The role table itself lives in ``roles.py``."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .roles import second_factor_needed


class SecondFactorRequired(PermissionDenied):
    """The member may do this, but only once this session has passed a second factor.

    ``apps.accounts.mfa.SecondFactorMiddleware`` answers it with the verification (or enrolment) page;
    anywhere else it is still a PermissionDenied, so it fails closed."""


def session_is_verified(user) -> bool:
    """True when this session passed a second factor (set by django-otp's OTPMiddleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def require_second_factor(request, perm: str | None = None) -> None:
    membership = request.membership
    organization = request.organization
    needed = second_factor_needed(
        role=membership.role, perm=perm, organization_requires=organization.require_second_factor
    )
    if needed and not session_is_verified(request.user):
        raise SecondFactorRequired(
            "This needs a second factor: confirm a code from your authenticator app (or a recovery code) first."
        )


def second_factor_redirect(request) -> HttpResponse:
    """Send the member to the verification step, coming back to where they were."""
    target = request.get_full_path()
    if request.method not in {"GET", "HEAD"}:
        # A POST cannot be replayed by a redirect: come back to the page the form was on.
        referer = request.headers.get("referer", "")
        safe = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
        organization = getattr(request, "organization", None)
        fallback = reverse("portal:home", kwargs={"org_slug": organization.slug}) if organization else "/"
        target = referer if referer and safe else fallback
        messages.info(request, "Nothing was changed yet: confirm it is you, then do it again.")
    url = f"{reverse('accounts:mfa_verify')}?{urlencode({'next': target})}"
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def require_org_perm(request, perm: str) -> None:
    membership = getattr(request, "membership", None)
    if membership is None:
        # Only reachable for a view wired outside /o/<org_slug>/: fail closed.
        raise Http404("No such organisation.")
    if not membership.has_perm(perm):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")
    require_second_factor(request, perm)


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
