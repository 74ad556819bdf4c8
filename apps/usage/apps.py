from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self):
        from apps.ingest.jobs import register_job_kind

        from .models import IngestJob

        register_job_kind("usage", job_model=IngestJob, audit_prefix="usage")
