"""A withdrawn draft (issue 18: a period sent back from review) and the dispute-deadline reminder's marker.

- ``status`` gains ``withdrawn``, with when, by whom and why (a withdrawn row must carry its date); the
  unique owner-and-version constraint leaves withdrawn rows out, so the period's next submission issues new
  drafts of the same version beside the withdrawn ones.
- a final statement still needs its date; a withdrawn one (not final) has none, as a draft.
- ``deadline_reminded_at``: set once, when the owners were reminded that the dispute window closes.

No row changes: existing statements are drafts or finals. On SQLite, changing constraints rebuilds the table,
which loses its triggers (and the line triggers that name the statement table would stop it): as in 0005 and
0007 they go first and are made again at the end, the same triggers. On PostgreSQL neither step does anything.
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
        ("allocation", "0006_run_conversion"),
        ("owners", "0005_budgetthreshold"),
        ("periods", "0006_billingperiod_updated_index"),
        ("statements", "0007_statement_updated_at"),
        ("tenancy", "0008_idempotencykey"),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on, elidable=False),
        migrations.RemoveConstraint(
            model_name="statement",
            name="statement_unique_owner_version",
        ),
        migrations.RemoveConstraint(
            model_name="statement",
            name="statement_status_valid",
        ),
        migrations.RemoveConstraint(
            model_name="statement",
            name="statement_final_has_date",
        ),
        migrations.AddConstraint(
            model_name="statement",
            constraint=models.CheckConstraint(
                condition=~models.Q(status="final") | models.Q(finalised_at__isnull=False),
                name="statement_final_has_date",
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="deadline_reminded_at",
            field=models.DateTimeField(
                blank=True, help_text="When its owners were reminded that the dispute window closes.", null=True
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, help_text="When the period was sent back.", null=True),
        ),
        migrations.AddField(
            model_name="statement",
            name="withdrawn_by_label",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="statement",
            name="withdrawn_reason",
            field=models.TextField(blank=True, help_text="Why the period was sent back from review."),
        ),
        migrations.AlterField(
            model_name="statement",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft (in review)"), ("final", "Final"), ("withdrawn", "Withdrawn (sent back)")],
                default="draft",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="statement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "withdrawn"), _negated=True),
                fields=("organization", "billing_period", "owner", "version"),
                name="statement_unique_owner_version",
            ),
        ),
        migrations.AddConstraint(
            model_name="statement",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "final", "withdrawn"])), name="statement_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="statement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "withdrawn"), _negated=True), ("withdrawn_at__isnull", False), _connector="OR"
                ),
                name="statement_withdrawn_has_date",
            ),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off, elidable=False),
    ]
