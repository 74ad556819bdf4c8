from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "apps.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        from apps.periods import hooks

        from . import services

        hooks.register_guard("approve", services.guard_no_open_disputes)
        hooks.register_period_fact("Open disputes", services.open_disputes_fact)
