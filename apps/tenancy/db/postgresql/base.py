"""The PostgreSQL backend for tenant tables keyed (organization_id, id) in the database while Django's pk is id.

PostgreSQL lets GROUP BY name only a table's primary key for the table's other columns, and Django relies on it
when a model's pk is one column. With PRIMARY KEY (organization_id, id), ``GROUP BY t.id`` alone is refused
(``column "t.code" must appear in the GROUP BY clause``), so tenant models group by every selected column.
config/settings sets this as ENGINE whenever the database URL is PostgreSQL.
"""

from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model):
        from apps.tenancy.models import TenantModel

        return super().allows_group_by_selected_pks_on_model(model) and not issubclass(model, TenantModel)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
