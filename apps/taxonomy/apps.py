from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "apps.taxonomy"
    label = "taxonomy"

    def ready(self):
        from apps.tenancy.catalog import register_catalog_section

        from .catalog_io import CATALOG_SECTION

        register_catalog_section(CATALOG_SECTION)
