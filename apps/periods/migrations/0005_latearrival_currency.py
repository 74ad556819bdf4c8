"""A late arrival per currency: its amount is in ``currency``, and one job's rows in two currencies are two
arrivals (never one sum).

Usage arrivals made so far are labelled "USD": the price book that estimated them is all USD. Invoice
arrivals are recomputed from their job's lines of the period's billing month, grouped by the lines' own
currency (exact: the lines are there); a job with lines in two currencies becomes two arrivals."""

from django.db import migrations, models


def invoice_arrivals_by_currency(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.organization_id, a.billing_period_id, a.job_id, p.period FROM periods_latearrival a "
            "JOIN periods_billingperiod p ON p.organization_id = a.organization_id AND p.id = a.billing_period_id "
            "WHERE a.kind = 'invoices' ORDER BY a.id"
        )
        arrivals = cursor.fetchall()
        for arrival_id, organization_id, _billing_period_id, job_id, period in arrivals:
            cursor.execute(
                "SELECT currency, count(*), coalesce(sum(amount_nano), 0) FROM invoices_invoiceline "
                "WHERE organization_id = %s AND job_id = %s AND billing_period = %s GROUP BY currency ORDER BY currency",
                [organization_id, job_id, period],
            )
            groups = cursor.fetchall()
            if not groups:
                continue  # the job's lines are gone (deleted with their invoice): the arrival stays as it was
            (currency, rows, amount), *others = groups
            cursor.execute(
                "UPDATE periods_latearrival SET currency = %s, rows = %s, amount_nano = %s "
                "WHERE organization_id = %s AND id = %s",
                [currency, rows, amount, organization_id, arrival_id],
            )
            for currency, rows, amount in others:
                cursor.execute(
                    "INSERT INTO periods_latearrival (organization_id, billing_period_id, kind, job_id, version, "
                    "state_at_arrival, rows, amount_nano, currency, file_name, detail, first_at, last_at) "
                    "SELECT organization_id, billing_period_id, kind, job_id, version, state_at_arrival, %s, %s, %s, "
                    "file_name, detail, first_at, last_at FROM periods_latearrival WHERE organization_id = %s AND id = %s",
                    [rows, amount, currency, organization_id, arrival_id],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("periods", "0004_tenant_fk"),
        ("invoices", "0005_tenant_fk"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="latearrival",
            name="latearrival_unique_job",
        ),
        migrations.AddField(
            model_name="latearrival",
            name="currency",
            field=models.CharField(default="USD", help_text="The currency of amount_nano.", max_length=3),
        ),
        migrations.AlterField(
            model_name="latearrival",
            name="amount_nano",
            field=models.BigIntegerField(
                default=0,
                help_text="Their estimated (usage) or invoiced amount, in currency; for re-pulled usage buckets that "
                "replaced stored ones, the change.",
            ),
        ),
        migrations.AddConstraint(
            model_name="latearrival",
            constraint=models.UniqueConstraint(
                fields=("organization", "billing_period", "kind", "job_id", "currency"), name="latearrival_unique_job"
            ),
        ),
        migrations.RunPython(invoice_arrivals_by_currency, migrations.RunPython.noop),
    ]
