from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and API clients"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI description of token auth


class VerifiedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with a site that asks staff for a verified second factor."""

    default = False

    default_site = "apps.accounts.admin_site.VerifiedAdminSite"
