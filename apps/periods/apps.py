from django.apps import AppConfig


class PeriodsConfig(AppConfig):
    name = "apps.periods"
    label = "periods"
    verbose_name = "Billing periods"
