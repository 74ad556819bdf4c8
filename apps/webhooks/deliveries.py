"""Webhook deliveries: made for each subscribed endpoint when an event is emitted, sent after the commit."""

from .models import Event


def fan_out(event: Event) -> None:
    """Create the event's deliveries for the organisation's active endpoints subscribed to its type, and
    send them once the transaction commits. (Endpoints arrive with the webhooks work of issue 17.)"""
    return None
