"""Service accounts: an API client acts as itself, with its own role and scopes. The roles a token may be
given, the human-only rule (disputes here; the period transitions in tests/periods/test_api.py), the
portal form, the provisioning command and the migration that gave existing clients their creators' roles."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from apps.accounts.authentication import ApiPrincipal
from apps.accounts.models import ApiClient, hash_token
from apps.accounts.services import api_client_create
from apps.audit.models import AuditEvent
from apps.disputes.models import Dispute
from apps.disputes.services import dispute_accept, dispute_reject
from apps.periods.services import TransitionForbidden, period_transition
from apps.tenancy.roles import (
    HUMAN_ONLY_MESSAGE,
    HUMAN_ONLY_PERMS,
    ROLE_PERMS,
    TOKEN_ROLES,
    Perm,
    Role,
    TokenScope,
    token_has_perm,
)
from tests import scenarios
from tests.factories import ApiClientFactory, MembershipFactory, UserFactory
from tests.scenarios import OCT, open_dispute

URL = reverse("accounts:api_clients", kwargs={"org_slug": "alpha"})


def test_the_human_only_rule_names_what_no_token_may_do():
    assert sorted(HUMAN_ONLY_PERMS) == ["dispute.resolve", "period.approve"]
    assert HUMAN_ONLY_MESSAGE == (
        "Approving, closing and reopening a period, overriding a guard and resolving disputes are human actions: "
        "no API token can take them."
    )
    # Whatever a token's role, the human-only permissions are not its; the rest of the role is.
    for role in Role:
        for perm in ROLE_PERMS[role]:
            assert token_has_perm(role, perm) is (perm not in HUMAN_ONLY_PERMS)
    assert TOKEN_ROLES == (Role.FINANCE_ANALYST, Role.VIEWER)
    assert token_has_perm(Role.FINANCE_ANALYST, Perm.PREPARE_PERIOD)
    assert not token_has_perm(Role.VIEWER, Perm.PREPARE_PERIOD)


# --- the service --------------------------------------------------------------------------------------


def _create(world, **overrides):
    organization = world.org("a")
    kwargs = {
        "organization": organization,
        "actor": world.user("a"),
        "name": "ERP",
        "scopes": [TokenScope.PERIODS_READ],
        "role": Role.FINANCE_ANALYST,
        "expires_at": timezone.now() + timedelta(days=30),
    }
    kwargs.update(overrides)
    with scope(organization=organization):
        return api_client_create(**kwargs)


@pytest.mark.django_db
def test_a_client_is_created_with_its_role_and_the_audit_records_it(world):
    client, _token = _create(world)
    assert (client.role, client.created_by) == (Role.FINANCE_ANALYST, world.user("a"))
    with scope(organization=world.org("a")):
        event = AuditEvent.objects.get(action="api_client.created")
    assert (event.after["role"], event.after["scopes"], event.actor_label) == (
        "finance_analyst",
        ["periods:read"],
        "alpha-org_admin",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.FINANCE_ADMIN, Role.BUDGET_OWNER, "root"])
def test_a_role_a_token_cannot_use_is_refused_and_nothing_is_written(world, role):
    with pytest.raises(ValidationError) as excinfo:
        _create(world, role=role)
    assert excinfo.value.message_dict == {
        "role": [f"A token may hold the role Finance analyst (preparer) or Viewer: {role!r} is not one of them."]
    }
    with scope(organization=world.org("a")):
        assert not ApiClient.objects.exists()
        assert not AuditEvent.objects.filter(action="api_client.created").exists()


# --- periods: the service checks the token itself, not only the API -------------------------------------


@pytest.mark.django_db
def test_the_period_service_holds_a_token_to_its_role_and_scope(world):
    organization = world.org("a")
    with scope(organization=organization):
        no_scope = ApiClientFactory(organization=organization, role=Role.FINANCE_ANALYST, scopes=["periods:read"])
        analyst = ApiClientFactory(organization=organization, role=Role.FINANCE_ANALYST, scopes=["periods:write"])
    with pytest.raises(TransitionForbidden) as excinfo:
        period_transition(
            organization=organization, period=OCT, transition="start_reconciliation", actor=ApiPrincipal(no_scope)
        )
    assert excinfo.value.messages == [f"API client {no_scope.name} lacks the 'periods:write' scope."]
    billing_period = period_transition(
        organization=organization, period=OCT, transition="start_reconciliation", actor=ApiPrincipal(analyst)
    )
    assert billing_period.state == "reconciling"
    with scope(organization=organization):
        event = AuditEvent.objects.get(action="billing_period.start_reconciliation")
    assert (event.actor, event.actor_label) == (None, f"api:{analyst.name}")


# --- disputes: resolving is a human action ----------------------------------------------------------------


@pytest.mark.django_db
def test_no_token_resolves_a_dispute_whatever_its_role(world):
    issued = scenarios.issued(
        world.org("a"), world.user("a", Role.FINANCE_ANALYST), owner_user=world.user("a", Role.BUDGET_OWNER)
    )
    dispute = open_dispute(world, issued)
    with scope(organization=world.org("a")):
        client = ApiClientFactory(organization=world.org("a"), role=Role.FINANCE_ADMIN, scopes=list(TokenScope.values))
    principal = ApiPrincipal(client)
    with pytest.raises(PermissionDenied, match=HUMAN_ONLY_MESSAGE):
        dispute_reject(dispute=dispute, actor=principal, reason="No.")
    with pytest.raises(PermissionDenied, match=HUMAN_ONLY_MESSAGE):
        dispute_accept(
            dispute=dispute, actor=principal, amount=Decimal("4.00"), recharge_owner=issued.owners["CC-1301"]
        )
    with scope(organization=world.org("a")):
        assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.OPEN
        assert list(AuditEvent.objects.filter(action__startswith="dispute.").values_list("action", flat=True)) == [
            "dispute.opened"
        ]
    # And the API offers no way to try: disputes are read there.
    api = Client(headers={"Authorization": f"Bearer {client.raw_token}"})
    detail = reverse("api:dispute-detail", kwargs={"pk": dispute.pk})
    assert api.get(detail).status_code == 200
    assert api.post(detail, {"status": "rejected"}, content_type="application/json").status_code == 405


# --- the portal ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_portal_offers_the_token_roles_and_lists_each_clients_role(world, django_assert_max_num_queries):
    portal = world.login("a")
    page = portal.get(URL)
    assert [value for value, _label in page.context["form"].fields["role"].choices] == [
        "finance_analyst",
        "viewer",
    ]
    assert HUMAN_ONLY_MESSAGE in page.content.decode()
    expires = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    body = {"name": "NetSuite", "scopes": ["periods:read", "periods:write"], "expires_at": expires}
    refused = portal.post(URL, {**body, "role": "finance_admin"})
    assert refused.context["new_token"] is None
    assert refused.context["form"].errors["role"] == [
        "Select a valid choice. finance_admin is not one of the available choices."
    ]
    created = portal.post(URL, {**body, "role": "finance_analyst"})
    token = created.context["new_token"]
    with scope(organization=world.org("a")):
        client = ApiClient.objects.get(name="NetSuite")
    assert (client.role, client.scopes, client.token_hash) == (
        "finance_analyst",
        ["periods:read", "periods:write"],
        hash_token(token),
    )
    for n in range(3):
        _create(world, name=f"reader-{n}", role=Role.VIEWER)
    with django_assert_max_num_queries(12):
        listing = portal.get(URL)
    rows = [(c.name, c.get_role_display(), ", ".join(c.scopes)) for c in listing.context["clients"]]
    assert rows == [
        ("reader-2", "Viewer", "periods:read"),
        ("reader-1", "Viewer", "periods:read"),
        ("reader-0", "Viewer", "periods:read"),
        ("NetSuite", "Finance analyst (preparer)", "periods:read, periods:write"),
    ]
    html = listing.content.decode()
    assert "<td>Finance analyst (preparer)</td><td>periods:read, periods:write</td>" in html


# --- the command -----------------------------------------------------------------------------------------


def _command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_client", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_command_prints_the_token_once_and_the_audit_names_the_command(world):
    out, err = _command(
        "--org",
        "alpha",
        "--name",
        "ERP connector",
        "--scopes",
        "statements:read, journal:read,events:read",
        "--role",
        "finance_analyst",
        "--expires-days",
        "30",
    )
    token = out.strip()
    assert out == token + "\n" and token.startswith("cbk_")
    with scope(organization=world.org("a")):
        client = ApiClient.objects.get(name="ERP connector")
        event = AuditEvent.objects.get(action="api_client.created")
    assert token not in err
    assert err.startswith("Created API client 'ERP connector' of alpha (role finance_analyst, scopes ")
    assert (client.role, client.scopes, client.created_by, client.token_hash) == (
        "finance_analyst",
        ["events:read", "journal:read", "statements:read"],
        None,
        hash_token(token),
    )
    lifetime = client.expires_at - client.created_at
    assert timedelta(days=30) - timedelta(minutes=1) < lifetime <= timedelta(days=30)
    assert (event.actor, event.actor_label, event.after["role"]) == (None, "command", "finance_analyst")
    # The token works, for what its scopes allow.
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get(reverse("api:statement-list")).status_code == 200
    assert api.get(reverse("api:period-list")).status_code == 403


@pytest.mark.django_db
def test_the_command_defaults_to_a_viewer_for_ninety_days(world):
    out, _err = _command("--org", "beta", "--name", "reader", "--scopes", "periods:read")
    with scope(organization=world.org("b")):
        client = ApiClient.objects.get(name="reader")
    assert client.role == Role.VIEWER and hash_token(out.strip()) == client.token_hash
    assert timedelta(days=90) - timedelta(minutes=1) < client.expires_at - client.created_at <= timedelta(days=90)
    with scope(organization=world.org("a")):
        assert not ApiClient.objects.exists()  # beta's, not alpha's


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "gamma", "--name", "x", "--scopes", "org:read"], "No organisation 'gamma'."),
        (["--org", "alpha", "--name", "x", "--scopes", "root:all"], "scopes: Unknown scope(s): root:all."),
        (["--org", "alpha", "--name", "x", "--scopes", ","], "scopes: Choose at least one scope."),
        (["--org", "alpha", "--name", "x", "--scopes", "org:read", "--expires-days", "0"], "--expires-days must be"),
        (
            ["--org", "alpha", "--name", "x", "--scopes", "org:read", "--expires-days", "400"],
            "expires_at: Tokens may live at most a year",
        ),
    ],
)
def test_the_command_refuses_what_the_portal_refuses(world, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _command(*args)
    with scopes_disabled():
        assert not ApiClient.objects.exists()


@pytest.mark.django_db
def test_the_command_offers_only_the_token_roles(world):
    with pytest.raises(CommandError, match="invalid choice: 'finance_admin'"):
        _command("--org", "alpha", "--name", "x", "--scopes", "org:read", "--role", "finance_admin")


# --- the migration ---------------------------------------------------------------------------------------

BEFORE = ("accounts", "0002_tenant_pk")
AFTER = ("accounts", "0003_api_client_role")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_existing_clients_take_their_creators_current_role_else_viewer(world):
    alpha, beta = world.org("a"), world.org("b")
    outsider = UserFactory(username="beta-only")
    with scope(organization=beta):
        MembershipFactory(organization=beta, user=outsider, role=Role.FINANCE_ADMIN)
    old_apps = _migrate(BEFORE)
    try:
        OldClient = old_apps.get_model("accounts", "ApiClient")
        creators = {
            "by-finance-admin": world.user("a", Role.FINANCE_ADMIN),
            "by-analyst": world.user("a", Role.FINANCE_ANALYST),
            "by-org-admin": world.user("a", Role.ORG_ADMIN),
            "by-a-non-member": outsider,  # a member of beta only: nobody in alpha stands behind it
            "by-nobody": None,
        }
        for n, (name, user) in enumerate(creators.items()):
            OldClient._base_manager.create(
                organization_id=alpha.pk,
                name=name,
                key_prefix=f"{n:012x}",
                token_hash="0" * 64,
                scopes=["periods:read"],
                expires_at=timezone.now() + timedelta(days=1),
                created_by_id=user.pk if user else None,
            )
        _migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    with scope(organization=alpha):
        roles = dict(ApiClient.objects.values_list("name", "role"))
    assert roles == {
        "by-finance-admin": "finance_admin",
        "by-analyst": "finance_analyst",
        "by-org-admin": "org_admin",
        "by-a-non-member": "viewer",
        "by-nobody": "viewer",
    }
