from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "apps.invoices"
    label = "invoices"
    verbose_name = "Provider invoices"

    def ready(self):
        from apps.ingest.jobs import register_job_kind

        from .models import InvoiceIngestJob

        register_job_kind("invoice", job_model=InvoiceIngestJob, audit_prefix="invoices")
