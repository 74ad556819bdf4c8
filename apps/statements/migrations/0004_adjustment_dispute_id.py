"""An adjustment names its dispute by number: ``dispute`` (a foreign key to ``disputes.Dispute``) becomes
``dispute_id``, a plain integer on the same column, so statements hold no reference up to disputes.

In the database only the foreign-key constraint goes (the column, its index, its rows and the unique
constraint ``adjustment_one_per_side`` on (organization, dispute_id, kind) stay). Adjustments are written
only by ``apps.disputes.services.dispute_accept`` for the dispute it holds locked, and disputes are never
deleted.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0003_adjustment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="adjustment",
                    name="dispute",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="adjustments",
                        to="disputes.dispute",
                    ),
                ),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="adjustment", name="adjustment_one_per_side"),
                migrations.RemoveField(model_name="adjustment", name="dispute"),
                migrations.AddField(
                    model_name="adjustment",
                    name="dispute_id",
                    field=models.BigIntegerField(db_index=True, help_text="The accepted dispute this side resolves."),
                ),
                migrations.AlterModelOptions(
                    name="adjustment",
                    options={"ordering": ["billing_period", "dispute_id", "kind"]},
                ),
                migrations.AddConstraint(
                    model_name="adjustment",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "dispute_id", "kind"), name="adjustment_one_per_side"
                    ),
                ),
            ],
        ),
    ]
