from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "apps.invoices"
    label = "invoices"
    verbose_name = "Provider invoices"

    def ready(self):
        from apps.fx.hooks import register_rate_demand
        from apps.ingest.jobs import register_job_kind
        from apps.periods import hooks

        from .models import InvoiceIngestJob
        from .selectors import has_invoices_in, months_with_invoices, rate_demand
        from .tasks import run_invoice_ingest

        register_job_kind(
            "invoice", job_model=InvoiceIngestJob, audit_prefix="invoices", task=run_invoice_ingest, noun="import"
        )
        hooks.register_month_source("invoices", months=months_with_invoices, has_month=has_invoices_in)
        register_rate_demand(rate_demand)
