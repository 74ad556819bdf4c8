"""Organisation models and the currency of a negotiated price.

- ``OrgModel``: a name an organisation's usage reports (Azure deployment, fine-tune), mapped to a list model
  or priced only by the organisation's overrides.
- ``PriceOverride.org_model`` (either a list model or an org model, never both) and ``currency``: existing
  negotiated prices were USD (the only currency the book had); discounts carry none.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import apps.tenancy.keys


def label_price_currency(apps, schema_editor):
    PriceOverride = apps.get_model("pricing", "PriceOverride")
    PriceOverride.objects.filter(price__isnull=False, currency="").update(currency="USD")


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0004_pricebookversion_region_scope_origin"),
        ("tenancy", "0005_organization_usage_retention_months"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrgModel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(
                        help_text="The model name exactly as usage reports it (any case).", max_length=200
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=500)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["provider__code", "name"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="priceoverride",
            name="priceoverride_unique_provider_key",
        ),
        migrations.AddField(
            model_name="priceoverride",
            name="currency",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The negotiated price's currency (a discount has none: it keeps the list price's).",
                max_length=3,
                validators=[
                    django.core.validators.RegexValidator("^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD.")
                ],
            ),
        ),
        migrations.AddField(
            model_name="orgmodel",
            name="maps_to",
            field=models.ForeignKey(
                blank=True,
                help_text="The list model it is priced as; empty: priced only by this organisation's overrides.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pricing.aimodel",
            ),
        ),
        migrations.AddField(
            model_name="orgmodel",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.AddField(
            model_name="orgmodel",
            name="provider",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="pricing.provider"
            ),
        ),
        migrations.AddConstraint(
            model_name="orgmodel",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="pricing_orgmodel_tenant_pk"),
        ),
        migrations.AddField(
            model_name="priceoverride",
            name="org_model",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="One of the organisation's own model names (instead of a list model).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="overrides",
                to="pricing.orgmodel",
            ),
        ),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=models.UniqueConstraint(
                condition=models.Q(("model__isnull", True), ("org_model__isnull", True)),
                fields=("organization", "provider", "usage_type", "service_tier", "effective_from"),
                name="priceoverride_unique_provider_only_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=models.UniqueConstraint(
                condition=models.Q(("org_model__isnull", False)),
                fields=("organization", "provider", "org_model", "usage_type", "service_tier", "effective_from"),
                name="priceoverride_unique_org_model_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=models.CheckConstraint(
                condition=models.Q(("model__isnull", True), ("org_model__isnull", True), _connector="OR"),
                name="priceoverride_model_xor_org_model",
            ),
        ),
        migrations.RunPython(label_price_currency, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("price__isnull", False), models.Q(("currency", ""), _negated=True)),
                    models.Q(("price__isnull", True), ("currency", "")),
                    _connector="OR",
                ),
                name="priceoverride_price_has_currency",
            ),
        ),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="org_model", name="pricing_priceoverride_org_model_id_tfk"
            ),
        ),
        migrations.AddConstraint(
            model_name="orgmodel",
            constraint=models.UniqueConstraint(
                fields=("organization", "provider", "name"), name="orgmodel_unique_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="orgmodel",
            constraint=models.CheckConstraint(
                condition=models.Q(("name", ""), _negated=True), name="orgmodel_name_not_empty"
            ),
        ),
    ]
