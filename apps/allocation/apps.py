from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "apps.allocation"
    label = "allocation"
    verbose_name = "Allocation"
