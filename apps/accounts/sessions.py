"""Session lifetime: an idle timeout per person, short for the roles that move money.

A finance admin, finance analyst or org admin (in any organisation) is signed out after
``SESSION_IDLE_MINUTES_FINANCE`` minutes without a request; everyone else after ``SESSION_IDLE_MINUTES``.
``SESSION_COOKIE_AGE`` caps a session's whole life whatever the activity.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django_scopes import scopes_disabled

from apps.tenancy.models import Membership
from apps.tenancy.roles import Role

LAST_SEEN_KEY = "last_seen"
# Don't write the session on every request: the last-seen time moves in steps of this many seconds.
LAST_SEEN_RESOLUTION = 30

FINANCE_SESSION_ROLES = (Role.FINANCE_ADMIN, Role.FINANCE_ANALYST, Role.ORG_ADMIN)


def idle_timeout_seconds(user) -> int:
    with scopes_disabled():
        finance = Membership.objects.filter(user=user, role__in=FINANCE_SESSION_ROLES).exists()
    minutes = settings.SESSION_IDLE_MINUTES_FINANCE if finance else settings.SESSION_IDLE_MINUTES
    return int(minutes) * 60


class SessionIdleTimeoutMiddleware:
    """After AuthenticationMiddleware. Token-authenticated API requests carry no session and pass untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            limit = idle_timeout_seconds(user)
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > limit:
                logout(request)
                messages.info(request, f"You were signed out after {limit // 60} minutes without activity.")
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN_KEY] = now
                # The stored session (and its cookie) also ends when the idle time is up.
                request.session.set_expiry(min(limit, settings.SESSION_COOKIE_AGE))
        return self.get_response(request)
