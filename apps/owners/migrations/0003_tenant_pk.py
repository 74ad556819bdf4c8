"""Issue 22, first wave: the owners tables keyed (organization_id, id).

1. The automatic owner_users table becomes the BudgetOwnerUser model (state only), gains organization_id (from
   its cost centre) and a unique key that includes it in place of UNIQUE (budgetowner_id, user_id).
2. parent, Budget.owner and the link's budgetowner become TenantForeignKey: their single-column constraints go.
3. PRIMARY KEY (organization_id, id) on the three tables. Single-column foreign keys that apps converted later
   still hold on owners_budgetowner(id) are kept (on a UNIQUE (id) their own conversion drops), so this runs
   after the migrations that made them. The composite foreign keys are the second wave (0004_tenant_fk).
"""

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

import apps.tenancy.keys

LINKS = "owners_budgetowner_owner_users"


def fill_link_organisations(apps, schema_editor):
    BudgetOwnerUser = apps.get_model("owners", "BudgetOwnerUser")
    BudgetOwner = apps.get_model("owners", "BudgetOwner")
    BudgetOwnerUser.unscoped.filter(organization__isnull=True).update(
        organization_id=models.Subquery(
            BudgetOwner._base_manager.filter(pk=models.OuterRef("budgetowner_id")).values("organization_id")[:1]
        )
    )


def drop_unique_without_organisation(apps, schema_editor):
    """The automatic table's UNIQUE (budgetowner_id, user_id), whatever its generated name. (SQLite: the table
    was rebuilt from the model state, without it, when the organisation column was added.)"""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """SELECT conname FROM pg_constraint c WHERE conrelid = %s::regclass AND contype = 'u'
                 AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid
                                  AND a.attnum = ANY (c.conkey) AND a.attname = 'organization_id')""",
            [LINKS],
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'ALTER TABLE "{LINKS}" DROP CONSTRAINT "{name}"', params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("owners", "0002_budget"),
        ("tenancy", "0004_tenant_pk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # the single-column foreign keys to owners_budgetowner(id) exist before its key changes under them
        ("taxonomy", "0002_dimension_granularity"),
        ("allocation", "0003_runs"),
        ("statements", "0004_adjustment_dispute_id"),
        ("disputes", "0004_adjustment_moved_to_statements"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BudgetOwnerUser",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "budgetowner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="owners.budgetowner"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "cost centre owner",
                        "db_table": LINKS,
                        "default_manager_name": "unscoped",
                    },
                    managers=[("unscoped", django.db.models.manager.Manager())],
                ),
                migrations.AlterField(
                    model_name="budgetowner",
                    name="owner_users",
                    field=apps.tenancy.keys.TenantManyToManyField(
                        blank=True,
                        help_text="Members with the budget-owner role who see this cost centre and everything below it.",
                        related_name="owned_cost_centres",
                        through="owners.BudgetOwnerUser",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="budgetowneruser",
            name="organization",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(fill_link_organisations, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="budgetowneruser",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(drop_unique_without_organisation, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="budgetowneruser",
            constraint=models.UniqueConstraint(
                fields=("organization", "budgetowner", "user"), name="budgetowneruser_unique"
            ),
        ),
        migrations.AlterField(
            model_name="budgetowneruser",
            name="budgetowner",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="owners.budgetowner"
            ),
        ),
        migrations.AlterField(
            model_name="budget",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="budgets", to="owners.budgetowner"
            ),
        ),
        migrations.AlterField(
            model_name="budgetowner",
            name="parent",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="children",
                to="owners.budgetowner",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budgetowner",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="owners_budgetowner_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budget",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="owners_budget_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="budgetowneruser",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="owners_budgetowner_owner_users_tenant_pk"),
        ),
    ]
