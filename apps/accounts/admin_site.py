"""The Django admin, behind the same second factor as the portal's administration.

Staff pages change members, API clients, periods and settings directly, so every staff session must have
passed a second factor (TOTP or a recovery code). A signed-in staff user who has not is sent to the
portal's verification step (which offers enrolment when they have no authenticator yet)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.tenancy.permissions import session_is_verified


class VerifiedAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and session_is_verified(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_active and user.is_staff and not session_is_verified(user):
            target = request.GET.get("next") or reverse("admin:index")
            return HttpResponseRedirect(f"{reverse('accounts:mfa_verify')}?{urlencode({'next': target})}")
        return super().login(request, extra_context)
