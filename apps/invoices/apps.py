from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "apps.invoices"
    label = "invoices"
    verbose_name = "Provider invoices"

    def ready(self):
        from apps.periods import hooks

        from .selectors import has_invoices_in, months_with_invoices

        hooks.register_month_source("invoices", months=months_with_invoices, has_month=has_invoices_in)
