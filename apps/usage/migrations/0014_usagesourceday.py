"""What each source stored per day, provider, model and currency (``UsageSourceDay``), built for the usage
already stored: one grouped read of each organisation's records, in its own statement."""

import django.db.models.deletion
from django.db import migrations, models

import apps.tenancy.keys

COLUMNS = "organization_id, day, provider, model, source, currency"


def build(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    with schema_editor.connection.cursor() as cursor:
        for organization_id in Organization.objects.values_list("pk", flat=True).order_by("pk"):
            cursor.execute(
                f"INSERT INTO usage_usagesourceday ({COLUMNS}, records, requests, input_tokens, output_tokens, "  # noqa: S608 (fixed names)
                f"estimated_nano) SELECT {COLUMNS}, count(*), sum(request_count), sum(input_tokens), "
                f"sum(output_tokens), sum(estimated_nano) FROM usage_usagerecord WHERE organization_id = %s "
                f"GROUP BY {COLUMNS}",
                [organization_id],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0005_organization_usage_retention_months"),
        ("usage", "0013_usage_modalities_and_repulls"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageSourceDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("provider", models.CharField(max_length=40)),
                ("model", models.CharField(max_length=120)),
                ("source", models.CharField(max_length=30)),
                ("currency", models.CharField(default="USD", max_length=3)),
                ("records", models.BigIntegerField(default=0)),
                ("requests", models.BigIntegerField(default=0)),
                ("input_tokens", models.BigIntegerField(default=0)),
                ("output_tokens", models.BigIntegerField(default=0)),
                ("estimated_nano", models.BigIntegerField(default=0)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
                    ),
                ),
            ],
            options={
                "ordering": ["day", "provider", "model", "source"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "day", "provider", "model", "source", "currency"),
                        name="usagesourceday_cell",
                    ),
                    apps.tenancy.keys.TenantPrimaryKey(name="usage_usagesourceday_tenant_pk"),
                ],
            },
        ),
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
