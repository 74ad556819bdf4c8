"""Issue 22, first wave: the API client table keyed (organization_id, id).

A token prefix stays unique across organisations in the new global table ApiKeyPrefix (filled from the existing
clients here); the client table's own uniqueness becomes UNIQUE (organization_id, key_prefix).
"""

import django.db.models.deletion
from django.db import migrations, models

import apps.tenancy.keys


def fill_prefixes(apps, schema_editor):
    ApiClient = apps.get_model("accounts", "ApiClient")
    ApiKeyPrefix = apps.get_model("accounts", "ApiKeyPrefix")
    ApiKeyPrefix.objects.bulk_create(
        ApiKeyPrefix(key_prefix=prefix, client_organization_id=organization_id, api_client_id=pk)
        for pk, organization_id, prefix in ApiClient.objects.values_list("pk", "organization_id", "key_prefix")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tenancy", "0004_tenant_pk"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiKeyPrefix",
            fields=[
                ("key_prefix", models.CharField(max_length=16, primary_key=True, serialize=False)),
                (
                    "client_organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
                    ),
                ),
                ("api_client_id", models.BigIntegerField()),
            ],
            options={"verbose_name": "API key prefix"},
        ),
        migrations.RunPython(fill_prefixes, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="apiclient",
            name="key_prefix",
            field=models.CharField(help_text="Public part of the token, for lookup.", max_length=16),
        ),
        migrations.AddConstraint(
            model_name="apiclient",
            constraint=models.UniqueConstraint(
                fields=("organization", "key_prefix"), name="apiclient_unique_prefix_per_org"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="apiclient",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="accounts_apiclient_tenant_pk"),
        ),
    ]
