from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "apps.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        from apps.periods import hooks
        from apps.statements import hooks as statement_hooks

        from . import selectors, services

        hooks.register_guard("approve", services.guard_no_open_disputes)
        hooks.register_guard("send_back", services.guard_send_back_no_open_disputes)
        hooks.register_period_fact("Open disputes", services.open_disputes_fact)
        statement_hooks.register_statement_context(selectors.statement_disputes_context)
