from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from apps.tenancy.scoping import organization_scope

from .models import ConnectorPull, ProviderConnection
from .schedule import connections_due
from .services import connection_pull


class _Principal:
    """Who asked for a pull when no person did (an API client): named in the pull and the audit by its label."""

    user = None

    def __init__(self, label: str):
        self.audit_label = label


def pull_one(connection_id: int, trigger: str, user_id: int | None = None, actor_label: str = "") -> dict:
    """An entry point's pull of one connection (given its id), inside its organisation's scope."""
    with scopes_disabled():
        connection = ProviderConnection.objects.select_related("organization").filter(pk=connection_id).first()
        actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if actor is None and actor_label:
        actor = _Principal(actor_label)
    if connection is None:
        return {"connection": connection_id, "skipped": "no such connection"}
    with organization_scope(connection.organization):
        try:
            pull = connection_pull(connection=connection, trigger=trigger, actor=actor)
        except ValidationError as refused:
            return {"connection": connection_id, "skipped": " ".join(refused.messages)}
    return {
        "connection": connection_id,
        "pull": pull.pk,
        "status": pull.status,
        "requests": pull.requests,
        "pages": pull.pages,
        "results": pull.results,
        "rate_limited": pull.rate_limited,
        "seconds": str(pull.seconds),
        "error": pull.error_message,
    }


@shared_task(name="connectors.pull_connection", acks_late=True)
def pull_connection(
    connection_id: int, trigger: str = ConnectorPull.Trigger.SCHEDULE, user_id: int | None = None, actor_label: str = ""
):
    """One pull (idempotent: a pull reads a window again and the ingest stores each bucket once)."""
    return pull_one(connection_id, trigger, user_id, actor_label)


@shared_task(name="connectors.pull_due")
def pull_due() -> list[int]:
    """Scheduled (CELERY_BEAT_SCHEDULE, hourly): queue a pull of every active connection that is due one."""
    due = connections_due()
    for _organization_id, connection_id in due:
        pull_connection.delay(connection_id, ConnectorPull.Trigger.SCHEDULE)
    return [connection_id for _organization_id, connection_id in due]
