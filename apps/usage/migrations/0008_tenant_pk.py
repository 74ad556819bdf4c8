"""Issue 22, first wave: the usage tables keyed (organization_id, id).

Their relations become TenantForeignKey (single-column constraints go); IngestJob, IngestError, DailyUsage,
DailyDetailUsage and SourceMapping get PRIMARY KEY (organization_id, id). The fact table's references (job, tag
set) are TenantForeignKey(tenant_constraint=False): no constraint in the database, as before (COPY speed), but
every join over them carries the organisation. Its key changes with its partitioning (0010). The composite foreign
keys are the second wave (0009_tenant_fk).
"""

import django.db.models.deletion
from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0007_request_list_keyset_indexes"),
        ("tenancy", "0004_tenant_pk"),
        ("taxonomy", "0003_tenant_pk"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ingesterror",
            name="job",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="errors", to="usage.ingestjob"
            ),
        ),
        migrations.AlterField(
            model_name="dailyusage",
            name="tagset",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="taxonomy.tagset"
            ),
        ),
        migrations.AlterField(
            model_name="usagerecord",
            name="job",
            field=apps.tenancy.keys.TenantForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                tenant_constraint=False,
                to="usage.ingestjob",
            ),
        ),
        migrations.AlterField(
            model_name="usagerecord",
            name="tagset",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                tenant_constraint=False,
                to="taxonomy.tagset",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="ingestjob",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="usage_ingestjob_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="ingesterror",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="usage_ingesterror_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dailyusage",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="usage_dailyusage_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dailydetailusage",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="usage_dailydetailusage_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="sourcemapping",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="usage_sourcemapping_tenant_pk"),
        ),
    ]
