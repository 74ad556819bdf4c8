"""Issue 22, second wave: the statements tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0005_tenant_pk"),
    ]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="adjustment",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="billing_period", name="disputes_adjustment_billing_period_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="adjustment",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="owner", name="disputes_adjustment_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="billing_period", name="statements_statement_billing_period_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="owner", name="statements_statement_owner_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="supersedes", name="statements_statement_supersedes_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="allocation_run", name="statements_statement_allocation_run_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statementline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="statement", name="statements_statementline_statement_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statementline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="allocation_line", name="statements_statementline_allocation_line_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statementline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="adjustment", name="statements_statementline_adjustment_id_tfk"
            ),
        ),
    ]
