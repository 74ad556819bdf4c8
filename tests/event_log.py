"""What the event outbox holds, for the tests of the apps that emit (``apps.webhooks.events.emit``)."""

from django_scopes import scope

from apps.webhooks.models import Event


def events(organization, prefix: str = "") -> list[Event]:
    """The organisation's events in seq order, those whose type starts with ``prefix``."""
    with scope(organization=organization):
        return list(Event.objects.filter(organization=organization, type__startswith=prefix).order_by("seq"))


def summary(organization, prefix: str = "") -> list[tuple]:
    """(type, object_type, object_id, api_path) of each event, in seq order."""
    return [(e.type, e.object_type, e.object_id, e.api_path) for e in events(organization, prefix)]
