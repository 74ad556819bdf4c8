from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "apps.reconciliation"
    label = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self):
        from apps.periods import hooks

        from .guards import submit_check
        from .selectors import period_figures

        hooks.register_check("submit_for_review", submit_check)
        hooks.register_period_figures(period_figures)
