"""Issue 22, second wave: the invoices tables' composite foreign keys, after every key they point at."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [("invoices", "0004_tenant_pk")]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingestjobinvoice",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="invoiceingestjob", name="invoices_invoiceingestjob_invoices_invoiceingestjob_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingestjobinvoice",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="providerinvoice", name="invoices_invoiceingestjob_invoices_providerinvoice_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceingesterror",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="job", name="invoices_invoiceingesterror_job_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="invoice", name="invoices_invoiceline_invoice_id_tfk"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="invoiceline",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="job", name="invoices_invoiceline_job_id_tfk"
            ),
        ),
    ]
