"""Issue 22, second wave: the usage tables' composite foreign keys, after every key they point at.

The cube's (organization_id, tagset_id) → taxonomy_tagset was the last single-column reference to a tag set:
adding it drops taxonomy_tagset's UNIQUE (id) kept for it (``TenantForeignKeyConstraint``)."""

from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0008_tenant_pk"),
        ("taxonomy", "0003_tenant_pk"),
    ]

    operations = [
        apps.tenancy.keys.AddTenantConstraint(
            model_name="ingesterror",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(field="job", name="usage_ingesterror_job_id_tfk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dailyusage",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="tagset", name="usage_dailyusage_tagset_id_tfk"
            ),
        ),
    ]
