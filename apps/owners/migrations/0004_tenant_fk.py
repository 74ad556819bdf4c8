"""Issue 22, second wave: the owners tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [("owners", "0003_tenant_pk")]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budgetowner",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="parent", name="owners_budgetowner_parent_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budget",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(field="owner", name="owners_budget_owner_id_tfk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budgetowneruser",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="budgetowner", name="owners_budgetowner_owner_users_budgetowner_id_tfk"
            ),
        ),
    ]
