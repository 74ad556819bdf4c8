"""Activates the organisation scope for every portal URL under ``/o/<org_slug>/``.

The organisation comes from the URL, the membership from the logged-in user. A user who is not
a member gets a 404 (not a 403), so another tenant's existence is not confirmed. Outside these
URLs no scope is active and tenant-owned queries raise, except in the Django admin, which is
unscoped and restricted per organisation by ``apps.audit.admin_kit.TenantAdmin``.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_scopes import scopes_disabled

from .models import Membership, Organization
from .permissions import second_factor_redirect, session_is_verified
from .scoping import organization_scope


class OrganizationScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)

        if match.namespaces and match.namespaces[0] == "admin":
            with scopes_disabled():
                return self.get_response(request)

        org_slug = match.kwargs.get("org_slug")
        if org_slug is None:
            return self.get_response(request)

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        organization = Organization.objects.filter(slug=org_slug).first()
        if organization is None:
            raise Http404("No such organisation.")
        with organization_scope(organization):
            membership = Membership.objects.filter(user=request.user).select_related("user").first()
            if membership is None:
                raise Http404("No such organisation.")
            request.organization = organization
            request.membership = membership
            if organization.require_second_factor and not session_is_verified(request.user):
                # The organisation asks every member for a second factor before any of its pages.
                return second_factor_redirect(request)
            return self.get_response(request)
