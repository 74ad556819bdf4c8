"""Issue 22, first wave: the allocation tables keyed (organization_id, id).

Relations between tenant tables become TenantForeignKey (their single-column constraints go) and every table gets
PRIMARY KEY (organization_id, id). The single-column foreign keys that statements still holds on allocation
tables are kept until it is converted (so this runs after they exist). On SQLite, changing a foreign key rebuilds
the table, which drops its triggers: the published-version triggers are made again. The composite foreign keys
are the second wave (0005_tenant_fk).
"""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations

import apps.tenancy.keys


def sqlite_triggers_again(apps, schema_editor):
    """SQLite rebuilt allocation_rulesetversion for its new foreign keys, without the triggers: make them again."""
    if schema_editor.connection.vendor == "sqlite":
        import_module("apps.allocation.migrations.0002_published_versions_immutable").forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0003_runs"),
        ("owners", "0004_tenant_fk"),
        ("periods", "0004_tenant_fk"),
        ("tenancy", "0004_tenant_pk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("statements", "0004_adjustment_dispute_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="allocationline",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="allocation_lines",
                to="owners.budgetowner",
            ),
        ),
        migrations.AlterField(
            model_name="allocationline",
            name="run",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="allocation.allocationrun"
            ),
        ),
        migrations.AlterField(
            model_name="allocationrun",
            name="billing_period",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="periods.billingperiod"
            ),
        ),
        migrations.AlterField(
            model_name="allocationrun",
            name="rule_set_version",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="runs", to="allocation.rulesetversion"
            ),
        ),
        migrations.AlterField(
            model_name="rulesetversion",
            name="rule_set",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="versions", to="allocation.ruleset"
            ),
        ),
        migrations.AlterField(
            model_name="rulesetversion",
            name="true_up_central_owner",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="owners.budgetowner",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationline",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="allocation_allocationline_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="allocationrun",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="allocation_allocationrun_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="ruleset",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="allocation_ruleset_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="rulesetversion",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="allocation_rulesetversion_tenant_pk"),
        ),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop, elidable=False),
    ]
