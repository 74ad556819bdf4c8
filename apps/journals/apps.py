from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "apps.journals"
    label = "journals"
    verbose_name = "Journal entries for the ERP"
