from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.accounts.models import ApiClient, hash_token
from apps.accounts.services import api_client_create, api_client_revoke
from apps.audit.models import AuditEvent
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db

ORG_URL = reverse("api:organization-detail")


def _bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def _create(world, **overrides):
    organization = world.org("a")
    kwargs = {
        "organization": organization,
        "actor": world.user("a"),
        "name": "NetSuite",
        "scopes": ["org:read", "statements:read"],
        "expires_at": timezone.now() + timedelta(days=30),
    }
    kwargs.update(overrides)
    with scope(organization=organization):
        return api_client_create(**kwargs)


def test_token_is_stored_only_as_a_hash_and_works_once_created(world):
    client, token = _create(world)
    assert token.startswith(f"cbk_{client.key_prefix}_")
    assert client.token_hash == hash_token(token)
    with scope(organization=world.org("a")):
        stored_row = ApiClient.objects.values().get(pk=client.pk)
    secret = token.split("_", 2)[2]  # as the authentication reads it: the secret may itself contain "_"
    assert not any(secret in str(value) for value in stored_row.values())
    response = _bearer(token).get(ORG_URL)
    assert response.status_code == 200
    assert response.json() == {
        "slug": "alpha",
        "name": "Alpha Corp",
        "base_currency": "USD",
        "variance_tolerance_pct": "5.00",
        "mode": "showback",
    }
    client.refresh_from_db()
    assert client.last_used_at is not None


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer cbk_000000000000_nope", "Invalid token."),
        ("Bearer garbage", "Invalid token."),
        ("Bearer a b", "Malformed Authorization header: use 'Bearer <token>'."),
    ],
)
def test_bad_tokens_are_refused(world, header, detail):
    response = Client(headers={"Authorization": header}).get(ORG_URL)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_no_token_is_401(world):
    assert Client().get(ORG_URL).status_code == 401


def test_a_right_prefix_with_a_wrong_secret_is_refused(world):
    _client, token = _create(world)
    assert _bearer(token[:-2] + "xx").get(ORG_URL).status_code == 401


def test_expired_and_revoked_tokens_are_refused(world):
    client, token = _create(world)
    with scope(organization=world.org("a")):
        ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _bearer(token).get(ORG_URL).json() == {"detail": "This token has expired."}
    client2, token2 = _create(world, name="Other")
    with scope(organization=world.org("a")):
        api_client_revoke(client=client2, actor=world.user("a"))
    assert _bearer(token2).get(ORG_URL).json() == {"detail": "This token has been revoked."}


def test_a_missing_scope_is_403_naming_the_scope(world):
    _client, token = _create(world, scopes=["statements:read"])
    response = _bearer(token).get(ORG_URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "This token lacks the 'org:read' scope."}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": ["root:everything"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
        ({"expires_at": timezone.now() + timedelta(days=800)}, "expires_at"),
    ],
)
def test_invalid_clients_are_refused_and_nothing_is_written(world, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        _create(world, **overrides)
    assert field in excinfo.value.message_dict
    with scope(organization=world.org("a")):
        assert ApiClient.objects.count() == 0
        assert not AuditEvent.objects.filter(action="api_client.created").exists()


def test_duplicate_names_are_refused(world):
    _create(world)
    with pytest.raises(ValidationError) as excinfo:
        _create(world)
    assert excinfo.value.message_dict == {"name": ["An API client called 'NetSuite' already exists."]}


def test_org_admin_creates_and_revokes_in_the_portal_and_the_token_is_shown_once(world):
    portal = world.login("a")
    url = reverse("accounts:api_clients", kwargs={"org_slug": "alpha"})
    expires = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    response = portal.post(url, {"name": "Workday", "role": "viewer", "scopes": ["org:read"], "expires_at": expires})
    token = response.context["new_token"]
    assert token and token.encode() in response.content
    assert _bearer(token).get(ORG_URL).status_code == 200
    assert token.encode() not in portal.get(url).content  # never shown again
    with scope(organization=world.org("a")):
        client = ApiClient.objects.get(name="Workday")
    portal.post(reverse("accounts:api_client_revoke", kwargs={"org_slug": "alpha", "pk": client.pk}))
    assert _bearer(token).get(ORG_URL).status_code == 401
    with scope(organization=world.org("a")):
        actions = list(AuditEvent.objects.filter(object_type="accounts.apiclient").values_list("action", flat=True))
    assert actions == ["api_client.created", "api_client.revoked"]


@pytest.mark.parametrize("role", [Role.FINANCE_ADMIN, Role.FINANCE_ANALYST, Role.BUDGET_OWNER, Role.VIEWER])
def test_only_org_admins_manage_api_clients(world, role):
    assert world.login("a", role).get(reverse("accounts:api_clients", kwargs={"org_slug": "alpha"})).status_code == 403


def test_rate_limit_answers_429_with_retry_after(world, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    # The rates are read once into a class attribute; patch it for this test only.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"api_client": "3/min"})
    _, token = _create(world)
    api = _bearer(token)
    statuses = [api.get(ORG_URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(api.get(ORG_URL)["Retry-After"]) > 0
