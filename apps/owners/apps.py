from django.apps import AppConfig


class OwnersConfig(AppConfig):
    name = "apps.owners"
    label = "owners"

    def ready(self):
        from apps.tenancy.catalog import register_catalog_section

        from .catalog_io import SECTIONS

        for section in SECTIONS.values():
            register_catalog_section(section)
