from django.apps import AppConfig


class PeriodsConfig(AppConfig):
    name = "apps.periods"
    label = "periods"
    verbose_name = "Billing periods"

    def ready(self):
        from apps.tenancy.hooks import register_settings_guard

        from . import hooks, jobs
        from .guards import calendar_may_change
        from .notifications import period_submitted_notify

        register_settings_guard("period_start_day", calendar_may_change)
        hooks.on_transition("submit_for_review", period_submitted_notify)
        jobs.register()
