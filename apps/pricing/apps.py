from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "apps.pricing"
    label = "pricing"

    def ready(self):
        from apps.tenancy.catalog import register_catalog_section

        from .catalog_io import CATALOG_SECTION, ORG_MODEL_CATALOG_SECTION

        register_catalog_section(ORG_MODEL_CATALOG_SECTION)
        register_catalog_section(CATALOG_SECTION)
