"""Issue 22, second wave: the disputes tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0005_tenant_pk"),
    ]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="statement", name="disputes_dispute_statement_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(field="line", name="disputes_dispute_line_id_tfk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="billing_period", name="disputes_dispute_billing_period_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="owner", name="disputes_dispute_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="recharge_owner", name="disputes_dispute_recharge_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="disputecomment",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="dispute", name="disputes_disputecomment_dispute_id_tfk"
            ),
        ),
    ]
