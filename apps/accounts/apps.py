from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and API clients"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI description of token auth
