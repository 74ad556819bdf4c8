"""A final statement and its lines refuse changes in the database; drafts stay editable.

- ``statements_statement``: like the append-only triggers of ``apps.audit.triggers``, with a
  ``WHEN OLD.status = 'final'`` condition. Closing a period is the UPDATE of a row whose old status is
  ``draft``, so it passes.
- ``statements_statementline``: INSERT, UPDATE and DELETE are refused when the line's statement is final.
  PostgreSQL does not allow a subquery in a trigger's WHEN, so its function looks the statement up;
  SQLite does allow it.
"""

from django.db import migrations

STATEMENT = "statements_statement"
LINE = "statements_statementline"

PG_STATEMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION chargeback_refuse_final_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'final rows of % are immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

PG_LINE_FUNCTION = """
CREATE OR REPLACE FUNCTION chargeback_refuse_final_statement_line() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        parent_id := NEW.statement_id;
    ELSE
        parent_id := OLD.statement_id;
    END IF;
    IF EXISTS (SELECT 1 FROM "statements_statement" WHERE id = parent_id AND status = 'final') THEN
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


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [
            PG_STATEMENT_FUNCTION,
            f'CREATE TRIGGER "{STATEMENT}_final_immutable" BEFORE UPDATE OR DELETE ON "{STATEMENT}" '
            "FOR EACH ROW WHEN (OLD.status = 'final') EXECUTE FUNCTION chargeback_refuse_final_statement();",
            PG_LINE_FUNCTION,
            f'CREATE TRIGGER "{LINE}_final_immutable" BEFORE INSERT OR UPDATE OR DELETE ON "{LINE}" '
            "FOR EACH ROW EXECUTE FUNCTION chargeback_refuse_final_statement_line();",
        ]
    elif vendor == "sqlite":
        final_parent = f"(SELECT status FROM \"{STATEMENT}\" WHERE id = {{row}}.statement_id) = 'final'"  # noqa: S608
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
    else:
        raise NotImplementedError(f"immutability triggers are not written for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = [
            f'DROP TRIGGER IF EXISTS "{STATEMENT}_final_immutable" ON "{STATEMENT}";',
            f'DROP TRIGGER IF EXISTS "{LINE}_final_immutable" ON "{LINE}";',
            "DROP FUNCTION IF EXISTS chargeback_refuse_final_statement_line();",
            "DROP FUNCTION IF EXISTS chargeback_refuse_final_statement();",
        ]
    else:
        statements = [
            f'DROP TRIGGER IF EXISTS "{STATEMENT}_final_no_update";',
            f'DROP TRIGGER IF EXISTS "{STATEMENT}_final_no_delete";',
            f'DROP TRIGGER IF EXISTS "{LINE}_final_no_insert";',
            f'DROP TRIGGER IF EXISTS "{LINE}_final_no_update";',
            f'DROP TRIGGER IF EXISTS "{LINE}_final_no_delete";',
        ]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("statements", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
