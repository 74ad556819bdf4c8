"""Issue 22, second wave: the reconciliation tables' composite foreign key, after the key it points at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0002_tenant_pk")]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="reconciliationline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="run", name="reconciliation_reconciliationline_run_id_tfk"
            ),
        ),
    ]
