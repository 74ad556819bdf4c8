import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Organization
from apps.tenancy.roles import TokenScope

from .models import ApiClient, hash_token

TOKEN_PREFIX = "cbk"  # noqa: S105 - a public marker, not a secret
MAX_LIFETIME = timedelta(days=366)


def _new_token() -> tuple[str, str]:
    key_prefix = secrets.token_hex(6)
    return key_prefix, f"{TOKEN_PREFIX}_{key_prefix}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def api_client_create(
    *, organization: Organization, actor, name: str, scopes: list[str], expires_at: datetime
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token. The token is never stored or shown again."""
    errors = {}
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown:
        errors["scopes"] = f"Unknown scope(s): {', '.join(unknown)}."
    elif not scopes:
        errors["scopes"] = "Choose at least one scope."
    now = timezone.now()
    if expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    elif expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = "Tokens may live at most a year; create a new one when it runs out."
    if ApiClient.objects.filter(organization=organization, name=name).exists():
        errors["name"] = f"An API client called {name!r} already exists."
    if errors:
        raise ValidationError(errors)
    key_prefix, raw_token = _new_token()
    client = ApiClient.objects.create(
        organization=organization,
        name=name,
        key_prefix=key_prefix,
        token_hash=hash_token(raw_token),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=actor,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="api_client.created",
        target=client,
        after={"name": name, "scopes": client.scopes, "expires_at": expires_at, "key_prefix": key_prefix},
    )
    return client, raw_token


@transaction.atomic
def api_client_revoke(*, client: ApiClient, actor) -> ApiClient:
    if client.revoked_at is not None:
        return client
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    audit_record(
        organization=client.organization,
        actor=actor,
        action="api_client.revoked",
        target=client,
        before={"status": "active"},
        after={"status": "revoked"},
    )
    return client
