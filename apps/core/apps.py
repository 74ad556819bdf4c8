from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor. It has no models; it is installed for its template filters (``{% load money %}``)."""

    name = "apps.core"
    label = "core"
    verbose_name = "Ground floor"
