"""DRF authentication with org-bound API tokens: ``Authorization: Bearer cbk_<prefix>_<secret>``."""

import hmac
from datetime import timedelta

from django.utils import timezone
from django_scopes import scopes_disabled
from rest_framework import authentication, exceptions

from .models import ApiClient, ApiKeyPrefix, hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write a row on every request


class ApiPrincipal:
    """Stands in for ``request.user`` when a token authenticates. ``request.auth`` is the client."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    user = None  # no human behind it: audit events name the client instead

    def __init__(self, client: ApiClient):
        self.client = client
        self.organization = client.organization
        self.audit_label = client.audit_label

    def __str__(self) -> str:
        return self.audit_label


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        try:
            raw_token = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        parts = raw_token.split("_", 2)
        if len(parts) != 3 or parts[0] != "cbk":
            raise exceptions.AuthenticationFailed("Invalid token.")
        # The organisation is not known until the token is: the global prefix table names it, then the client is
        # read by organisation and id.
        with scopes_disabled():
            entry = ApiKeyPrefix.objects.filter(key_prefix=parts[1]).first()
            client = (
                ApiClient.objects.select_related("organization")
                .filter(
                    organization_id=entry.client_organization_id, pk=entry.api_client_id, key_prefix=entry.key_prefix
                )
                .first()
                if entry is not None
                else None
            )
        if client is None or not hmac.compare_digest(client.token_hash, hash_token(raw_token)):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        now = timezone.now()
        if client.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired.")
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            with scopes_disabled():
                ApiClient.objects.filter(organization_id=client.organization_id, pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return ApiPrincipal(client), client

    def authenticate_header(self, request):
        return self.keyword
