from rest_framework import serializers

from apps.connectors.models import ConnectorPull, ProviderConnection


class ConnectionSerializer(serializers.ModelSerializer):
    """A provider connection and its last pull; never its credentials (only the key's last four characters)."""

    class Meta:
        model = ProviderConnection
        fields = [
            "id",
            "provider",
            "label",
            "credentials_hint",
            "repull_days",
            "is_active",
            "pulled_through",
            "last_pull_status",
            "last_pull_started_at",
            "last_pull_finished_at",
            "last_pull_error",
            "created_at",
        ]
        read_only_fields = fields


class PullSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectorPull
        fields = [
            "id",
            "trigger",
            "status",
            "window_start",
            "window_end",
            "requests",
            "pages",
            "results",
            "rate_limited",
            "usage_job",
            "invoice_job",
            "error_message",
            "created_by_label",
            "started_at",
            "finished_at",
            "seconds",
        ]
        read_only_fields = fields
