"""Cross-tenant cases for the operators' side: audit anchoring records, the health and metrics endpoints."""

from django.utils import timezone

from apps.audit.models import AuditAnchor, AuditChainCheck

from . import tenant_model, unscoped_route


def _anchor(world, organization) -> AuditAnchor:
    return AuditAnchor.objects.create(
        organization=organization, seq=1, hash="a" * 64, mac="b" * 64, published_at=timezone.now(), sinks={}
    )


def _check(world, organization) -> AuditChainCheck:
    return AuditChainCheck.objects.create(organization=organization, checked_at=timezone.now(), ok=True)


tenant_model("audit.auditanchor", _anchor)
tenant_model("audit.auditchaincheck", _check)

# The operators' endpoints (apps/core/observability): no tenant data.
unscoped_route("health", "the service's own health (database, cache, broker, worker), no tenant data")
unscoped_route("metrics", "counters of the whole service, no tenant data; token or loopback only")
