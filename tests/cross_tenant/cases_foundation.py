"""Cross-tenant cases for tenancy, accounts, audit and the portal shell."""

from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.roles import Role
from tests.factories import ApiClientFactory

from . import api_route, portal_route, tenant_model, unscoped_route


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _api_client(world, organization):
    with scope(organization=organization):
        return ApiClientFactory(organization=organization, scopes=["org:read"])


def _audit_event(world, organization) -> AuditEvent:
    from django.db import transaction

    with transaction.atomic():
        return audit_record(
            organization=organization,
            actor=None,
            action="test.touched",
            object_type="test",
            object_id=organization.slug,
        )


def _idempotency_key(world, organization):
    from django.utils import timezone

    from apps.tenancy.models import IdempotencyKey

    client = _api_client(world, organization)
    with scope(organization=organization):
        return IdempotencyKey.objects.create(
            organization=organization,
            client_id=client.pk,
            key="retry-1",
            method="POST",
            path="/api/v1/budget-owners/",
            fingerprint="0" * 64,
            status_code=201,
            response_body='{"id": 1}',
            created_at=timezone.now(),
            claimed_at=timezone.now(),
        )


def _membership(world, organization):
    key = "a" if organization.slug == world.orgs["a"].slug else "b"
    return world.memberships[(key, Role.VIEWER)]


# Portal routes under /o/<org_slug>/
portal_route("portal:home", _org)
portal_route("accounts:settings", _org)
portal_route("accounts:mode_switch", _org, method="post")
portal_route("accounts:members", _org)
portal_route("accounts:member_edit", lambda w, o: {**_org(w, o), "pk": _membership(w, o).pk})
portal_route("accounts:api_clients", _org)
portal_route("accounts:api_client_revoke", lambda w, o: {**_org(w, o), "pk": _api_client(w, o).pk}, method="post")
portal_route("audit:history", _org)
portal_route("audit:event_detail", lambda w, o: {**_org(w, o), "pk": _audit_event(w, o).pk})

# API routes
api_route("api:organization-detail")
api_route("api:audit-event-list", row_id=lambda w, o: _audit_event(w, o).pk)
api_route("api:audit-event-detail", lambda w, o: {"pk": _audit_event(w, o).pk})

# Tenant-owned models
tenant_model("tenancy.membership", _membership)
tenant_model("accounts.apiclient", _api_client)
tenant_model("audit.auditevent", _audit_event)
tenant_model("tenancy.idempotencykey", _idempotency_key)

unscoped_route("portal:switcher", "lists only the logged-in user's own memberships")
unscoped_route("accounts:login", "public")
unscoped_route("accounts:logout", "acts on the caller's own session")
unscoped_route("accounts:password_change", "acts on the caller's own account")
unscoped_route("accounts:password_change_done", "static confirmation")
unscoped_route("accounts:mfa_setup", "the caller's own second factor")
unscoped_route("accounts:mfa_verify", "verifies the caller's own session")
unscoped_route("accounts:mfa_recovery_codes", "the caller's own recovery codes")
unscoped_route("accounts:mfa_disable", "the caller's own second factor")
unscoped_route("healthz", "no tenant data")
unscoped_route("api:schema", "the OpenAPI document, no tenant data")
unscoped_route("api:not-found", "answers 404 to any path no API route matches; reads nothing")
