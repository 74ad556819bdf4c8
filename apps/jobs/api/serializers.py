from rest_framework import serializers

from apps.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    progress_pct = serializers.IntegerField(read_only=True, help_text="0–100; 100 only once it succeeded.")
    url = serializers.SerializerMethodField(help_text="This job in the API: poll it until status is final.")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "progress_done",
            "progress_total",
            "progress_pct",
            "progress_message",
            "result",
            "result_url",
            "error_message",
            "attempts",
            "created_by_label",
            "created_at",
            "started_at",
            "finished_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, job: Job) -> str:
        return f"/api/v1/jobs/{job.pk}/"
