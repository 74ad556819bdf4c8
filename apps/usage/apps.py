from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self):
        from apps.periods import hooks

        from .selectors import has_usage_in, months_with_usage

        hooks.register_month_source("usage", months=months_with_usage, has_month=has_usage_in)
