"""Cross-tenant cases for the connectors app: the connections, their pulls, and their pages."""

from datetime import UTC, datetime

from django_scopes import scope

from apps.connectors import crypto
from apps.connectors.models import ConnectorPull, ProviderConnection

from . import api_route, portal_route, tenant_model


def make_connection(world, organization) -> ProviderConnection:
    with scope(organization=organization):
        connection, _ = ProviderConnection.objects.get_or_create(
            organization=organization,
            label=f"OpenAI {organization.slug}",
            defaults={
                "provider": "openai",
                "credentials_encrypted": crypto.encrypt({"api_key": f"sk-admin-{organization.slug}-0000"}),
                "credentials_hint": "…0000",
            },
        )
    return connection


def make_pull(world, organization) -> ConnectorPull:
    connection = make_connection(world, organization)
    with scope(organization=organization):
        pull, _ = ConnectorPull.objects.get_or_create(
            organization=organization,
            connection=connection,
            defaults={
                "trigger": "schedule",
                "status": "succeeded",
                "window_start": datetime(2026, 12, 1, tzinfo=UTC),
                "window_end": datetime(2026, 12, 8, tzinfo=UTC),
            },
        )
    return pull


tenant_model("connectors.providerconnection", make_connection)
tenant_model("connectors.connectorpull", make_pull)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _connection(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_connection(world, organization).pk}


portal_route("connectors:list", _org)
portal_route("connectors:detail", _connection)
portal_route("connectors:pull", _connection, method="post", role="finance_analyst")
portal_route("connectors:delete", _connection, method="post")


api_route("api:connector-list", row_id=lambda world, organization: make_connection(world, organization).pk)
api_route("api:connector-detail", lambda world, organization: {"pk": make_connection(world, organization).pk})
api_route("api:connector-pulls", lambda world, organization: {"pk": make_pull(world, organization).connection_id})
api_route(
    "api:connector-pull", lambda world, organization: {"pk": make_connection(world, organization).pk}, method="post"
)
