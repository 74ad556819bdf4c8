"""``Adjustment`` now belongs to statements (statements 0003 took it over, table and rows unchanged): here
disputes only forgets it. State only, nothing is dropped."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0003_dispute_submission_key"),
        ("statements", "0003_adjustment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Adjustment")],
            database_operations=[],
        ),
    ]
