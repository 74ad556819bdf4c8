from django.apps import AppConfig


class PeriodsConfig(AppConfig):
    name = "apps.periods"
    label = "periods"
    verbose_name = "Billing periods"

    def ready(self):
        from apps.tenancy.hooks import register_settings_guard

        from . import jobs
        from .guards import calendar_may_change

        register_settings_guard("period_start_day", calendar_may_change)
        jobs.register()
