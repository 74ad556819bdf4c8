"""Issue 22, first wave: the reconciliation tables keyed (organization_id, id).

A line's run becomes a TenantForeignKey (its single-column constraint goes); both tables get PRIMARY KEY
(organization_id, id). The composite foreign key is the second wave (0003_tenant_fk).
"""

import django.db.models.deletion
from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
        ("tenancy", "0004_tenant_pk"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reconciliationline",
            name="run",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="reconciliation.reconciliationrun",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="reconciliationrun",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="reconciliation_reconciliationrun_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="reconciliationline",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="reconciliation_reconciliationline_tenant_pk"),
        ),
    ]
