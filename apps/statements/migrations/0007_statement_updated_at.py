"""``Statement.updated_at`` (issue 17), for ``?updated_since=``, and its index.

Adding a column is DDL: no row is updated, so the final-statement triggers (0002, 0005) have nothing to
refuse. Every existing statement gets the time of this migration as its ``updated_at`` (PostgreSQL stores it
as the column's default while adding it, then drops the default): a client that synced before sees them
once more, never misses one. Nothing backfills a truer time with an UPDATE, which the triggers refuse for
final rows, and rightly.

On SQLite, adding a NOT NULL column rebuilds the table, and a rebuild loses its triggers (and the line
triggers that name the statement table would stop it): as in 0005 they go first and are made again at the
end, the same triggers. On PostgreSQL neither step does anything.
"""

from importlib import import_module

from django.db import migrations, models

TRIGGERS = "apps.statements.migrations.0005_tenant_pk"


def sqlite_triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        import_module(TRIGGERS).sqlite_triggers_off(apps, schema_editor)


def sqlite_triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        import_module(TRIGGERS).triggers_by_organisation(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0006_tenant_fk"),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on, elidable=False),
        migrations.AddField(
            model_name="statement",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, help_text="Last change (issued, rebuilt, finalised): what ?updated_since= filters on."
            ),
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(fields=["organization", "updated_at"], name="statement_org_updated"),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off, elidable=False),
    ]
