from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "apps.reconciliation"
    label = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self):
        from apps.jobs.registry import register_job_kind
        from apps.periods import hooks
        from apps.tenancy.roles import Perm, TokenScope

        from .guards import submit_check
        from .jobs import KIND, run_reconciliation_job
        from .selectors import period_figures

        hooks.register_check("submit_for_review", submit_check)
        hooks.register_period_figures(period_figures)
        register_job_kind(
            KIND,
            run_reconciliation_job,
            label="Reconciliation run",
            perm=Perm.PREPARE_PERIOD,
            scope=TokenScope.PERIODS_READ,
        )
