"""Reads of provider connections and their pulls."""

from django.db.models import QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import ConnectorPull, ProviderConnection


@tenant_scoped
def connection_list(*, organization: Organization) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.filter(organization=organization).order_by("provider", "label", "id")


@tenant_scoped(via="connection")
def connection_pulls(*, connection: ProviderConnection) -> QuerySet[ConnectorPull]:
    return (
        ConnectorPull.objects.filter(organization=connection.organization_id, connection=connection)
        .select_related("usage_job", "invoice_job")
        .order_by("-started_at", "-id")
    )


@tenant_scoped
def invoice_panel(*, organization: Organization) -> dict | None:
    """What the invoice list shows of the connectors (one query): each connection's last pull, or nothing when
    the organisation has none."""
    connections = list(connection_list(organization=organization))
    if not connections:
        return None
    return {"template": "connectors/_invoice_panel.html", "connections": connections}
