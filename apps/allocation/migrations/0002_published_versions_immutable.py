"""A published rule-set version refuses UPDATE and DELETE in the database; drafts stay editable.

The append-only triggers of ``apps.audit.triggers`` with a ``WHEN OLD.status = 'published'``
condition (the PostgreSQL function is the shared one). Publishing itself is the UPDATE of a row
whose old status is ``draft``, so it passes.
"""

from django.db import migrations

from apps.audit.triggers import PG_FUNCTION

TABLE = "allocation_rulesetversion"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [
            PG_FUNCTION,
            f'CREATE TRIGGER "{TABLE}_published_immutable" BEFORE UPDATE OR DELETE ON "{TABLE}" '
            "FOR EACH ROW WHEN (OLD.status = 'published') EXECUTE FUNCTION chargeback_refuse_append_only();",
        ]
    elif vendor == "sqlite":
        statements = [
            f'CREATE TRIGGER "{TABLE}_published_no_update" BEFORE UPDATE ON "{TABLE}" '
            f"WHEN OLD.status = 'published' "
            f"BEGIN SELECT RAISE(ABORT, 'published rows of {TABLE} are immutable: UPDATE refused'); END;",
            f'CREATE TRIGGER "{TABLE}_published_no_delete" BEFORE DELETE ON "{TABLE}" '
            f"WHEN OLD.status = 'published' "
            f"BEGIN SELECT RAISE(ABORT, 'published rows of {TABLE} are immutable: DELETE refused'); END;",
        ]
    else:
        raise NotImplementedError(f"immutability triggers are not written for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = [f'DROP TRIGGER IF EXISTS "{TABLE}_published_immutable" ON "{TABLE}";']
    else:
        statements = [
            f'DROP TRIGGER IF EXISTS "{TABLE}_published_no_update";',
            f'DROP TRIGGER IF EXISTS "{TABLE}_published_no_delete";',
        ]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
