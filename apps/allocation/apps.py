from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "apps.allocation"
    label = "allocation"
    verbose_name = "Allocation"

    def ready(self):
        from apps.jobs.registry import register_job_kind
        from apps.tenancy.hooks import register_settings_guard
        from apps.tenancy.roles import Perm, TokenScope

        from .guards import allocation_runs_fix_base_currency, reconciliation_runs_fix_base_currency
        from .runs.jobs import KIND, run_allocation_job

        register_settings_guard("base_currency", reconciliation_runs_fix_base_currency)
        register_settings_guard("base_currency", allocation_runs_fix_base_currency)
        register_job_kind(
            KIND, run_allocation_job, label="Allocation run", perm=Perm.PREPARE_PERIOD, scope=TokenScope.PERIODS_READ
        )
