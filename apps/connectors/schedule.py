"""The connectors' work across organisations: which connections are due a scheduled pull, and the re-encryption
of every stored token under a new key. Entry points (the beat task, the commands) call these and enter each
connection's organisation for the pull itself."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from . import crypto
from .models import ProviderConnection, PullStatus


def connections_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(organisation id, connection id) of every active connection (all organisations) due a scheduled pull: never
    pulled, or its last pull started CONNECTOR_PULL_EVERY_MINUTES ago or more, and none running."""
    now = now or timezone.now()
    due_before = now - timedelta(minutes=settings.CONNECTOR_PULL_EVERY_MINUTES)
    stale = now - timedelta(minutes=settings.CONNECTOR_PULL_STALE_MINUTES)
    with scopes_disabled():
        rows = (
            ProviderConnection.objects.filter(is_active=True)
            .filter(Q(last_pull_started_at__isnull=True) | Q(last_pull_started_at__lte=due_before))
            .exclude(last_pull_status=PullStatus.RUNNING, last_pull_started_at__gt=stale)
            .order_by("organization_id", "pk")
            .values_list("organization_id", "pk")
        )
        return list(rows)


def rotate_encryption(*, batch: int = 500) -> int:
    """Re-encrypt every stored token under the first CONNECTOR_ENCRYPTION_KEYS key (all organisations). Returns
    how many tokens changed. Safe to run again: a token already under the first key is re-encrypted too (Fernet
    tokens carry a timestamp), which changes nothing that matters."""
    changed = 0
    with scopes_disabled():
        rows = list(ProviderConnection.objects.order_by("pk").values_list("organization_id", "pk"))
    for organization_id, pk in rows:
        with scopes_disabled(), transaction.atomic():
            connection = ProviderConnection.objects.select_for_update().get(organization_id=organization_id, pk=pk)
            connection.credentials_encrypted = crypto.rotate(connection.credentials_encrypted)
            connection.save(update_fields=["credentials_encrypted"])
            changed += 1
    return changed
