from django.apps import AppConfig
from django.core import checks


class ConnectorsConfig(AppConfig):
    name = "apps.connectors"
    label = "connectors"
    verbose_name = "Provider connectors"

    def ready(self):
        from apps.invoices.hooks import register_invoice_panel

        from .selectors import invoice_panel

        # The invoice list shows each connection's last pull (invoices may not import connectors).
        register_invoice_panel("connectors", invoice_panel)
        checks.register(check_encryption_keys)


def check_encryption_keys(app_configs=None, **kwargs):
    """Every CONNECTOR_ENCRYPTION_KEYS entry must be a Fernet key, or saving credentials would fail later."""
    from cryptography.fernet import Fernet
    from django.conf import settings

    errors = []
    for position, key in enumerate(settings.CONNECTOR_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            errors.append(
                checks.Error(
                    f"CONNECTOR_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64 bytes).",
                    id="connectors.E001",
                )
            )
    return errors
