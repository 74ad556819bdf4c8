from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor. It has no models; it is installed for its template filters (``{% load money %}``) and
    the operators' metrics (``observability``), whose Celery signal handlers it connects."""

    name = "apps.core"
    label = "core"
    verbose_name = "Ground floor"

    def ready(self):
        from .observability.metrics import connect_celery_signals

        connect_celery_signals()
