"""Issue 22, second wave: the periods tables' composite foreign key, after the key it points at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [("periods", "0003_tenant_pk")]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="latearrival",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="billing_period", name="periods_latearrival_billing_period_id_tfk"
            ),
        ),
    ]
