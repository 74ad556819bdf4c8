from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "apps.journals"
    label = "journals"
    verbose_name = "Journal entries for the ERP"

    def ready(self):
        from apps.periods import hooks

        from . import selectors, services

        # After statements' own close effect (INSTALLED_APPS order): the drafts are final when it books.
        hooks.on_transition("close", services.journal_book_on_close)
        hooks.register_period_fact("Journal", selectors.journal_fact)
        hooks.register_warning("reopen", selectors.reopen_warning)
