"""Issue 22, second wave: the allocation tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0004_tenant_pk"),
    ]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="run", name="allocation_allocationline_run_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="owner", name="allocation_allocationline_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationrun",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="billing_period", name="allocation_allocationrun_billing_period_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationrun",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="rule_set_version", name="allocation_allocationrun_rule_set_version_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="rulesetversion",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="rule_set", name="allocation_rulesetversion_rule_set_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="rulesetversion",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="true_up_central_owner", name="allocation_rulesetversion_true_up_central_owner_id_tfk"
            ),
        ),
    ]
