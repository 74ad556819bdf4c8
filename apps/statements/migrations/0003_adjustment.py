"""``Adjustment`` moves from disputes to statements (an input to statements, which sit below disputes).

State only: the table ``disputes_adjustment`` keeps its name, its rows, its constraints and its foreign
keys, and the statement lines keep theirs (Django's documented way: ``SeparateDatabaseAndState`` with no
database operations). ``disputes`` 0004 then forgets the model, and 0004 here turns ``dispute`` into a plain
``dispute_id`` so nothing in statements points up at disputes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0003_dispute_submission_key"),
        ("owners", "0002_budget"),
        ("periods", "0002_workflow_and_late_arrivals"),
        ("statements", "0002_final_statements_immutable"),
        ("tenancy", "0002_organization_period_start_day"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Adjustment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(choices=[("credit", "Credit"), ("charge", "Re-charge")], max_length=10),
                        ),
                        ("amount_nano", models.BigIntegerField()),
                        ("description", models.TextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "billing_period",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="periods.billingperiod",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="adjustments",
                                to="owners.budgetowner",
                            ),
                        ),
                        (
                            "dispute",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="adjustments",
                                to="disputes.dispute",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "disputes_adjustment",
                        "ordering": ["billing_period", "dispute", "kind"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "dispute", "kind"), name="adjustment_one_per_side"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("kind__in", ["credit", "charge"])), name="adjustment_kind_valid"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("kind", "credit"), ("amount_nano__lt", 0)),
                                    models.Q(("kind", "charge"), ("amount_nano__gt", 0)),
                                    _connector="OR",
                                ),
                                name="adjustment_sign_matches_kind",
                            ),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="statementline",
                    name="adjustment",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="statement_lines",
                        to="statements.adjustment",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
