"""Issue 22, second wave: the taxonomy tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("taxonomy", "0003_tenant_pk"),
        ("owners", "0003_tenant_pk"),
    ]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagvalue",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="dimension", name="taxonomy_tagvalue_dimension_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagvalue",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="owner", name="taxonomy_tagvalue_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagalias",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="dimension", name="taxonomy_tagalias_dimension_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagalias",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="value", name="taxonomy_tagalias_value_id_tfk"
            ),
        ),
    ]
