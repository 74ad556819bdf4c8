from rest_framework import serializers

from apps.core.money import nano_to_decimal
from apps.usage.models import IngestJob


class IngestErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line (NDJSON) or element (JSON array) of the body, from 1.")
    field = serializers.CharField(help_text='The field at fault, or "(row)" for the row as a whole.')
    message = serializers.CharField()


class IngestJobErrorsSerializer(serializers.Serializer):
    """The rows a job rejected, with why (the first 1000)."""

    job = serializers.IntegerField(help_text="Id of the ingest job.")
    rejected = serializers.IntegerField(help_text="Rows rejected in all (the list stops at 1000).")
    errors = IngestErrorSerializer(many=True)


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
            "replaced",
            "rejected",
            "unpriced_rows",
            "progress_pct",
            "estimated_cost",
            "currency",
            "estimated_by_currency",
            "price_book_version_id",
            "overlaps",
            "error_message",
            "created_at",
            "started_at",
            "heartbeat_at",
            "attempts",
            "finished_at",
            "payload_deleted_at",
            "errors_url",
        ]
        read_only_fields = fields

    def get_estimated_cost(self, job: IngestJob) -> str:
        return str(nano_to_decimal(job.estimated_nano))

    def get_errors_url(self, job: IngestJob) -> str:
        from django.urls import reverse

        return reverse("api:usage-job-errors", kwargs={"pk": job.pk})
