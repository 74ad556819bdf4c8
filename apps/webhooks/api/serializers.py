"""The event feed's rows: each event in the shape of a webhook's body (``type``, ``timestamp``, ``data`` with
the object's ``id``, ``object``, ``url`` and ``seq``, then the event's own fields), plus the event's ``id``
(the webhook-id of its deliveries) and ``seq``, so a client that reads both the feed and the webhooks handles
one shape and drops what it already has by ``id``."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.webhooks.models import Event, EventType


class EventDataSerializer(serializers.Serializer):
    """Documentation only: what ``data`` always carries (the event type's own fields follow)."""

    id = serializers.CharField(help_text='The object\'s id in the API: a number, or "YYYY-MM" for a period.')
    object = serializers.CharField(help_text='What changed: "period", "statement", "journal", "dispute", "alert".')
    url = serializers.URLField(allow_null=True, help_text="Where the API serves the object (null: nowhere).")
    seq = serializers.IntegerField(help_text="The event's number (as the row's seq).")


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="webhook_id", help_text='"msg_<32 hex>": the webhook-id of its deliveries.')
    type = serializers.ChoiceField(choices=EventType.choices)
    timestamp = serializers.DateTimeField(
        source="occurred_at", help_text="When the change was made (UTC), in the transaction that committed it."
    )
    actor = serializers.CharField(source="actor_label", help_text="Who made the change, as the audit names them.")
    data = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["id", "seq", "type", "timestamp", "actor", "data"]
        read_only_fields = fields

    @extend_schema_field(EventDataSerializer(help_text="The object, then the fields of the event type."))
    def get_data(self, event: Event) -> dict:
        request = self.context.get("request")
        url = None
        if event.api_path:
            url = request.build_absolute_uri(event.api_path) if request is not None else event.api_path
        return event.body_data(url)
