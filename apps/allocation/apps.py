from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "apps.allocation"
    label = "allocation"
    verbose_name = "Allocation"

    def ready(self):
        from apps.tenancy.hooks import register_settings_guard

        from .guards import allocation_runs_fix_base_currency, reconciliation_runs_fix_base_currency

        register_settings_guard("base_currency", reconciliation_runs_fix_base_currency)
        register_settings_guard("base_currency", allocation_runs_fix_base_currency)
