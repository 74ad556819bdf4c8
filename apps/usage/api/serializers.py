from rest_framework import serializers

from apps.pricing.money import nano_to_decimal
from apps.usage.models import IngestJob


class IngestJobSerializer(serializers.ModelSerializer):
    estimated_cost = serializers.SerializerMethodField()
    progress_pct = serializers.IntegerField(read_only=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = IngestJob
        fields = [
            "id",
            "status",
            "channel",
            "format",
            "file_name",
            "sha256",
            "size_bytes",
            "rows_total",
            "accepted",
            "duplicates",
            "rejected",
            "unpriced_rows",
            "progress_pct",
            "estimated_cost",
            "currency",
            "error_message",
            "created_at",
            "started_at",
            "heartbeat_at",
            "attempts",
            "finished_at",
            "errors_url",
        ]
        read_only_fields = fields

    def get_estimated_cost(self, job: IngestJob) -> str:
        return str(nano_to_decimal(job.estimated_nano))

    def get_errors_url(self, job: IngestJob) -> str:
        from django.urls import reverse

        return reverse("api:usage-job-errors", kwargs={"pk": job.pk})
