"""Issue 22, first wave: the periods tables keyed (organization_id, id).

LateArrival.billing_period becomes a TenantForeignKey (its single-column constraint goes); both tables get
PRIMARY KEY (organization_id, id). The single-column foreign keys that allocation, statements and disputes still
hold on periods_billingperiod(id) are kept until those apps are converted (so this runs after they exist). The
composite foreign key is the second wave (0004_tenant_fk).
"""

import django.db.models.deletion
from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("periods", "0002_workflow_and_late_arrivals"),
        ("tenancy", "0004_tenant_pk"),
        # the single-column foreign keys to periods_billingperiod(id) exist before its key changes under them
        ("allocation", "0003_runs"),
        ("statements", "0004_adjustment_dispute_id"),
        ("disputes", "0004_adjustment_moved_to_statements"),
    ]

    operations = [
        migrations.AlterField(
            model_name="latearrival",
            name="billing_period",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="late_arrivals", to="periods.billingperiod"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="billingperiod",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="periods_billingperiod_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="latearrival",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="periods_latearrival_tenant_pk"),
        ),
    ]
