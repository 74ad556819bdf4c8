"""Issue 15: cost-report lines get a bucket key (a re-pull with another amount restates the bucket), superseded
lines a table of their own, and imports a count of the lines they restated. The unique bucket key comes in 0008,
after the lines stored before it have their keys and any bucket already counted twice is resolved."""

import django.db.models.deletion
from django.db import migrations, models

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0006_cost_sources_audio_image"),
        ("tenancy", "0005_organization_usage_retention_months"),
    ]

    operations = [
        migrations.CreateModel(
            name="InvoiceLineRestatement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bucket_key", models.CharField(max_length=64)),
                ("line_key", models.CharField(max_length=64)),
                ("billing_period", models.DateField()),
                ("charge_period_start", models.DateTimeField()),
                ("charge_period_end", models.DateTimeField()),
                ("provider", models.CharField(max_length=40)),
                ("model", models.CharField(blank=True, max_length=120)),
                ("cost_source", models.CharField(max_length=20)),
                ("usage_type", models.CharField(blank=True, max_length=300)),
                ("amount_nano", models.BigIntegerField(help_text="The superseded amount, nano-units.")),
                (
                    "new_amount_nano",
                    models.BigIntegerField(help_text="The amount of the line that replaced it, nano-units."),
                ),
                ("currency", models.CharField(max_length=3)),
                ("raw", models.JSONField(default=dict)),
                ("source_line", models.PositiveIntegerField(default=0)),
                ("superseded_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["invoice", "-superseded_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="invoiceingestjob",
            name="restated",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Accepted lines that superseded an earlier line of the same cost-report bucket (a re-pull with another amount).",
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="bucket_key",
            field=models.CharField(
                blank=True,
                help_text="Cost reports only: sha256 of the bucket without its amount. A re-pull with another amount for the same bucket supersedes this line (it moves to the restatements).",
                max_length=64,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="invoicelinerestatement",
            name="invoice",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="restatements", to="invoices.providerinvoice"
            ),
        ),
        migrations.AddField(
            model_name="invoicelinerestatement",
            name="job",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="The import that had stored the superseded line.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="invoices.invoiceingestjob",
            ),
        ),
        migrations.AddField(
            model_name="invoicelinerestatement",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.AddField(
            model_name="invoicelinerestatement",
            name="superseded_by_job",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="The import whose line replaced it (empty for lines resolved by the migration that brought restatements in, when the newer line had no import left).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="restatements",
                to="invoices.invoiceingestjob",
            ),
        ),
        migrations.AddIndex(
            model_name="invoicelinerestatement",
            index=models.Index(fields=["organization", "invoice"], name="invoicerestatement_org_invoice"),
        ),
        migrations.AddConstraint(
            model_name="invoicelinerestatement",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoicelinerestatement_tenant_pk"),
        ),
        migrations.AddConstraint(
            model_name="invoicelinerestatement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="invoice", name="invoices_invoicelinerestatement_invoice_id_tfk"
            ),
        ),
        migrations.AddConstraint(
            model_name="invoicelinerestatement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="job", name="invoices_invoicelinerestatement_job_id_tfk"
            ),
        ),
        migrations.AddConstraint(
            model_name="invoicelinerestatement",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="superseded_by_job", name="invoices_invoicelinerestatement_superseded_by_job_id_tfk"
            ),
        ),
    ]
