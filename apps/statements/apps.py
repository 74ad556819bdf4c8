from django.apps import AppConfig


class StatementsConfig(AppConfig):
    name = "apps.statements"
    label = "statements"
    verbose_name = "Statements"

    def ready(self):
        from apps.periods import hooks
        from apps.tenancy.hooks import register_settings_guard

        from . import services
        from .guards import statements_fix_base_currency

        register_settings_guard("base_currency", statements_fix_base_currency)
        hooks.register_guard("submit_for_review", services.guard_period_has_draft_allocation)
        hooks.on_transition("submit_for_review", services.statements_issue)
        hooks.on_transition("close", services.statements_finalise)
        hooks.on_transition("send_back", services.statements_withdraw)
