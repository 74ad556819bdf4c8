"""Issue 22, first wave: the invoices tables keyed (organization_id, id).

1. The automatic InvoiceIngestJob.invoices table becomes the InvoiceIngestJobInvoice model (state only), gains
   organization_id (from its job) and a unique key that includes it in place of UNIQUE (invoiceingestjob_id,
   providerinvoice_id).
2. An error's job, a line's invoice and job, and the link's job and invoice become TenantForeignKey: their
   single-column constraints go.
3. PRIMARY KEY (organization_id, id) on the six tables. No other app's table points at an invoices table, so
   nothing else has to run first. The composite foreign keys are the second wave (0005_tenant_fk).
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

import apps.tenancy.keys

LINKS = "invoices_invoiceingestjob_invoices"


def fill_link_organisations(apps, schema_editor):
    InvoiceIngestJobInvoice = apps.get_model("invoices", "InvoiceIngestJobInvoice")
    InvoiceIngestJob = apps.get_model("invoices", "InvoiceIngestJob")
    InvoiceIngestJobInvoice.unscoped.filter(organization__isnull=True).update(
        organization_id=models.Subquery(
            InvoiceIngestJob._base_manager.filter(pk=models.OuterRef("invoiceingestjob_id")).values("organization_id")[
                :1
            ]
        )
    )


def drop_unique_without_organisation(apps, schema_editor):
    """The automatic table's UNIQUE (invoiceingestjob_id, providerinvoice_id), whatever its generated name.
    (SQLite: the table was rebuilt from the model state, without it, when the organisation column was added.)"""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """SELECT conname FROM pg_constraint c WHERE conrelid = %s::regclass AND contype = 'u'
                 AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid
                                  AND a.attnum = ANY (c.conkey) AND a.attname = 'organization_id')""",
            [LINKS],
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'ALTER TABLE "{LINKS}" DROP CONSTRAINT "{name}"', params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0003_invoiceingestjob_payload_deleted_at"),
        ("tenancy", "0004_tenant_pk"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="InvoiceIngestJobInvoice",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "invoiceingestjob",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="invoices.invoiceingestjob",
                            ),
                        ),
                        (
                            "providerinvoice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="invoices.providerinvoice",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "invoice touched by an import",
                        "verbose_name_plural": "invoices touched by imports",
                        "db_table": LINKS,
                        "default_manager_name": "unscoped",
                    },
                    managers=[("unscoped", django.db.models.manager.Manager())],
                ),
                migrations.AlterField(
                    model_name="invoiceingestjob",
                    name="invoices",
                    field=apps.tenancy.keys.TenantManyToManyField(
                        blank=True,
                        related_name="jobs",
                        through="invoices.InvoiceIngestJobInvoice",
                        to="invoices.providerinvoice",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="invoiceingestjobinvoice",
            name="organization",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(fill_link_organisations, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="invoiceingestjobinvoice",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(drop_unique_without_organisation, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="invoiceingestjobinvoice",
            constraint=models.UniqueConstraint(
                fields=("organization", "invoiceingestjob", "providerinvoice"), name="invoiceingestjobinvoice_unique"
            ),
        ),
        migrations.AlterField(
            model_name="invoiceingestjobinvoice",
            name="invoiceingestjob",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="invoices.invoiceingestjob"
            ),
        ),
        migrations.AlterField(
            model_name="invoiceingestjobinvoice",
            name="providerinvoice",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="invoices.providerinvoice"
            ),
        ),
        migrations.AlterField(
            model_name="invoiceingesterror",
            name="job",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="errors", to="invoices.invoiceingestjob"
            ),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="invoice",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="invoices.providerinvoice"
            ),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="job",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="invoices.invoiceingestjob",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoicesettings",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoicesettings_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingestjob",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoiceingestjob_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="providerinvoice",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_providerinvoice_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingestjobinvoice",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoiceingestjob_invoices_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingesterror",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoiceingesterror_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceline",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="invoices_invoiceline_tenant_pk"),
        ),
    ]
