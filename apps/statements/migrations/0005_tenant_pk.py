"""Issue 22, first wave: the statements tables keyed (organization_id, id).

Relations between tenant tables become TenantForeignKey (their single-column constraints go), a statement's
supersedes is unique with the organisation (UNIQUE (organization_id, supersedes_id) in place of
UNIQUE (supersedes_id)), and every table gets PRIMARY KEY (organization_id, id). The single-column foreign keys
that disputes still holds on statements tables are kept until it is converted (so this runs after they exist).
The final-statement triggers look a line's statement up by organisation and id (on a distributed database a
lookup by id alone cannot run on a shard); on SQLite, where changing a foreign key rebuilds the table without
its triggers, they are made again. The composite foreign keys are the second wave (0006_tenant_fk).
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations

import apps.tenancy.keys

STATEMENT = "statements_statement"
LINE = "statements_statementline"

PG_LINE_FUNCTION = """
CREATE OR REPLACE FUNCTION chargeback_refuse_final_statement_line() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_organization_id bigint;
    parent_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        parent_organization_id := NEW.organization_id;
        parent_id := NEW.statement_id;
    ELSE
        parent_organization_id := OLD.organization_id;
        parent_id := OLD.statement_id;
    END IF;
    IF EXISTS (SELECT 1 FROM "statements_statement"
                WHERE organization_id = parent_organization_id AND id = parent_id AND status = 'final') THEN
        RAISE EXCEPTION 'lines of final statements are immutable: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""


def sqlite_triggers_off(apps, schema_editor):
    """SQLite rebuilds a table to change its foreign keys, and the line triggers naming statements_statement
    would stop the rebuild: they go first and come back at the end (triggers_by_organisation)."""
    if schema_editor.connection.vendor == "sqlite":
        import_module("apps.statements.migrations.0002_final_statements_immutable").backwards(apps, schema_editor)


def triggers_by_organisation(apps, schema_editor):
    triggers = import_module("apps.statements.migrations.0002_final_statements_immutable")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_LINE_FUNCTION, params=None)  # the triggers call it by name
        return
    # SQLite: the rebuilt tables lost their triggers; make them again, the line's lookup by organisation too.
    triggers.backwards(apps, schema_editor)
    final_parent = (
        f'(SELECT status FROM "{STATEMENT}" WHERE organization_id = {{row}}.organization_id '  # noqa: S608
        "AND id = {row}.statement_id) = 'final'"
    )
    statements = [
        f'CREATE TRIGGER "{STATEMENT}_final_no_update" BEFORE UPDATE ON "{STATEMENT}" '
        "WHEN OLD.status = 'final' "
        f"BEGIN SELECT RAISE(ABORT, 'final rows of {STATEMENT} are immutable: UPDATE refused'); END;",
        f'CREATE TRIGGER "{STATEMENT}_final_no_delete" BEFORE DELETE ON "{STATEMENT}" '
        "WHEN OLD.status = 'final' "
        f"BEGIN SELECT RAISE(ABORT, 'final rows of {STATEMENT} are immutable: DELETE refused'); END;",
        f'CREATE TRIGGER "{LINE}_final_no_insert" BEFORE INSERT ON "{LINE}" '
        f"WHEN {final_parent.format(row='NEW')} "
        "BEGIN SELECT RAISE(ABORT, 'lines of final statements are immutable: INSERT refused'); END;",
        f'CREATE TRIGGER "{LINE}_final_no_update" BEFORE UPDATE ON "{LINE}" '
        f"WHEN {final_parent.format(row='OLD')} "
        "BEGIN SELECT RAISE(ABORT, 'lines of final statements are immutable: UPDATE refused'); END;",
        f'CREATE TRIGGER "{LINE}_final_no_delete" BEFORE DELETE ON "{LINE}" '
        f"WHEN {final_parent.format(row='OLD')} "
        "BEGIN SELECT RAISE(ABORT, 'lines of final statements are immutable: DELETE refused'); END;",
    ]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0005_tenant_fk"),
        ("owners", "0004_tenant_fk"),
        ("periods", "0004_tenant_fk"),
        ("statements", "0004_adjustment_dispute_id"),
        ("tenancy", "0004_tenant_pk"),
        ("disputes", "0004_adjustment_moved_to_statements"),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="adjustment",
            name="billing_period",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="periods.billingperiod"
            ),
        ),
        migrations.AlterField(
            model_name="adjustment",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="adjustments", to="owners.budgetowner"
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="allocation_run",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="allocation.allocationrun"
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="billing_period",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="periods.billingperiod"
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="statements", to="owners.budgetowner"
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="supersedes",
            field=apps.tenancy.keys.TenantOneToOneField(
                blank=True,
                help_text="The owner's final statement of an earlier version that this one replaces.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="superseded_by",
                to="statements.statement",
            ),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="adjustment",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="statement_lines",
                to="statements.adjustment",
            ),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="allocation_line",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="allocation.allocationline",
            ),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="statement",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="statements.statement"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="adjustment",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="disputes_adjustment_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="statements_statement_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statement",
            constraint=apps.tenancy.keys.TenantOneToOneConstraint(
                field="supersedes", name="statements_statement_supersedes_id_tenant_uniq"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="statementline",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="statements_statementline_tenant_pk"),
        ),
        migrations.RunPython(triggers_by_organisation, migrations.RunPython.noop, elidable=False),
    ]
