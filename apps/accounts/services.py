"""Writes of the accounts floor, each in one transaction with its audit event: API clients, and the
organisations' settings and members (here, not in ``tenancy``, because they are audited and tenancy sits
below audit)."""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record, model_snapshot
from apps.tenancy.hooks import settings_guards_for
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import TOKEN_ROLES, Role, TokenScope
from apps.tenancy.scoping import tenant_scoped

from .models import ApiClient, hash_token

TOKEN_PREFIX = "cbk"  # noqa: S105 - a public marker, not a secret
MAX_LIFETIME = timedelta(days=366)


def _new_token() -> tuple[str, str]:
    key_prefix = secrets.token_hex(6)
    return key_prefix, f"{TOKEN_PREFIX}_{key_prefix}_{secrets.token_urlsafe(32)}"


@tenant_scoped
@transaction.atomic
def api_client_create(
    *,
    organization: Organization,
    actor,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    role: str = Role.VIEWER,
) -> tuple[ApiClient, str]:
    """Create a client (a service account: it acts with ``role`` and ``scopes``, never as ``actor``) and
    return it with its token. The token is never stored or shown again."""
    errors = {}
    if role not in TOKEN_ROLES:
        offered = " or ".join(Role(r).label for r in TOKEN_ROLES)
        errors["role"] = f"A token may hold the role {offered}: {role!r} is not one of them."
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
        role=role,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=actor if getattr(actor, "_meta", None) is not None else None,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="api_client.created",
        target=client,
        after={
            "name": name,
            "role": role,
            "scopes": client.scopes,
            "expires_at": expires_at,
            "key_prefix": key_prefix,
        },
    )
    return client, raw_token


@tenant_scoped(via="client")
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


# Organisations and members

ORGANIZATION_SETTINGS_FIELDS = (
    "name",
    "base_currency",
    "variance_tolerance_pct",
    "period_start_day",
    "require_second_factor",
    "usage_retention_months",
    "fx_policy",
    "fx_source",
    "dispute_response_days",
    "dispute_window_business_days",
)
_UNCHANGED = object()


@tenant_scoped
@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    actor,
    name: str,
    base_currency: str,
    variance_tolerance_pct: Decimal,
    period_start_day: int | None = None,
    require_second_factor: bool | None = None,
    usage_retention_months=_UNCHANGED,
    fx_policy: str | None = None,
    fx_source: str | None = None,
    dispute_response_days: int | None = None,
    dispute_window_business_days: int | None = None,
    reason: str = "",
) -> Organization:
    # "before" comes from the database: a bound ModelForm has already written into the instance.
    stored = Organization.objects.select_for_update().get(pk=organization.pk)
    before = model_snapshot(stored, ORGANIZATION_SETTINGS_FIELDS)
    if period_start_day is None:
        period_start_day = stored.period_start_day
    # Fields other apps may hold fixed (settings guards, tenancy.hooks): the fiscal calendar once a period has
    # left open; the base currency once runs, statements or budgets are in it (nothing is ever re-converted).
    changed = [
        field
        for field, value in (("period_start_day", period_start_day), ("base_currency", base_currency))
        if value != getattr(stored, field)
    ]
    _ensure_settings_may_change(stored, fields=changed)
    organization.name = name
    organization.base_currency = base_currency
    organization.variance_tolerance_pct = variance_tolerance_pct
    organization.period_start_day = period_start_day
    organization.require_second_factor = (
        stored.require_second_factor if require_second_factor is None else require_second_factor
    )
    # None is a value here (keep every month): only an omitted argument leaves the setting as stored.
    organization.usage_retention_months = (
        stored.usage_retention_months if usage_retention_months is _UNCHANGED else usage_retention_months
    )
    organization.fx_policy = stored.fx_policy if fx_policy is None else fx_policy
    organization.fx_source = stored.fx_source if fx_source is None else fx_source
    organization.dispute_response_days = (
        stored.dispute_response_days if dispute_response_days is None else dispute_response_days
    )
    organization.dispute_window_business_days = (
        stored.dispute_window_business_days if dispute_window_business_days is None else dispute_window_business_days
    )
    organization.full_clean()
    organization.save(update_fields=list(ORGANIZATION_SETTINGS_FIELDS))
    after = model_snapshot(organization, ORGANIZATION_SETTINGS_FIELDS)
    if before != after:
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.updated",
            target=organization,
            before=before,
            after=after,
            reason=reason,
        )
    return organization


def _ensure_settings_may_change(stored: Organization, *, fields: list[str]) -> None:
    """Ask the guards other apps registered (``hooks``) for each changed field; the first message refuses."""
    for field in fields:
        for guard in settings_guards_for(field):
            message = guard(organization=stored)
            if message:
                raise ValidationError({field: message})


@tenant_scoped
@transaction.atomic
def organization_mode_switch(*, organization: Organization, actor, mode: str, reason: str) -> Organization:
    if mode not in Organization.Mode.values:
        raise ValidationError({"mode": f"Unknown mode {mode!r}."})
    if not reason.strip():
        raise ValidationError({"reason": "Switching mode needs a written reason."})
    if organization.mode == mode:
        raise ValidationError({"mode": f"The organisation is already in {mode} mode."})
    before = {"mode": organization.mode}
    organization.mode = mode
    organization.save(update_fields=["mode"])
    audit_record(
        organization=organization,
        actor=actor,
        action="organization.mode_switched",
        target=organization,
        before=before,
        after={"mode": mode},
        reason=reason,
    )
    return organization


@tenant_scoped
@transaction.atomic
def membership_create(*, organization: Organization, actor, user, role: str) -> Membership:
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError({"user": f"{user.username} is already a member of {organization.name}."})
    membership = Membership(organization=organization, user=user, role=role)
    membership.full_clean(exclude=["organization"])
    membership.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="membership.created",
        target=membership,
        after={"user": user.username, "role": role},
    )
    return membership


def _ensure_an_admin_remains(*, membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.ORG_ADMIN or new_role == Role.ORG_ADMIN:
        return
    admins = Membership.objects.filter(organization_id=membership.organization_id, role=Role.ORG_ADMIN)
    if admins.count() <= 1:
        raise ValidationError("An organisation needs at least one org admin: appoint another one first.")


@tenant_scoped(via="membership")
@transaction.atomic
def membership_change_role(*, membership: Membership, actor, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if membership.role == role:
        return membership
    _ensure_an_admin_remains(membership=membership, new_role=role)
    before = {"user": membership.user.username, "role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="membership.role_changed",
        target=membership,
        before=before,
        after={"user": membership.user.username, "role": role},
    )
    return membership


@tenant_scoped(via="membership")
@transaction.atomic
def membership_delete(*, membership: Membership, actor) -> None:
    _ensure_an_admin_remains(membership=membership, new_role=None)
    before = {"user": membership.user.username, "role": membership.role}
    target_id = membership.pk
    organization = membership.organization
    membership.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="membership.deleted",
        object_type="tenancy.membership",
        object_id=str(target_id),
        before=before,
    )
