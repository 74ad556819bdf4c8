from django.apps import AppConfig


class OwnersConfig(AppConfig):
    name = "apps.owners"
    label = "owners"

    def ready(self):
        from apps.tenancy.catalog import register_catalog_section
        from apps.tenancy.hooks import register_settings_guard

        from .catalog_io import SECTIONS
        from .guards import budgets_fix_base_currency

        register_settings_guard("base_currency", budgets_fix_base_currency)
        for section in SECTIONS.values():
            register_catalog_section(section)
