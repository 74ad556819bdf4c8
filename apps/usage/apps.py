from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self):
        from apps.fx.hooks import register_rate_demand
        from apps.ingest.jobs import register_job_kind
        from apps.periods import hooks

        from .models import IngestJob
        from .selectors import has_usage_in, months_with_usage, rate_demand
        from .tasks import run_ingest_job

        register_job_kind(
            "usage",
            job_model=IngestJob,
            audit_prefix="usage",
            task=run_ingest_job,
            retry_audit_fields=("lines_done", "accepted"),
        )
        hooks.register_month_source("usage", months=months_with_usage, has_month=has_usage_in)
        register_rate_demand(rate_demand)
