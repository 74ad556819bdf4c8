"""Issue 15: a reconciliation run keeps the exchange rates it converted with (its fx conversion) and the
estimated cost gateway logs and provider exports may both count; runs made before conversion are flagged.

Before this, a run added the USD estimates and invoice lines of every currency as if they were the
organisation's base currency. Those runs are marked ``legacy_unconverted`` (the page asks to reconcile
again): every run of an organisation whose base currency is not USD (the estimates were USD), and every run
that read invoice lines in another currency than its own. Their figures are left as they were."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import apps.tenancy.keys

# Before issue 15 every estimate was priced in USD (the shipped price book has USD rows only).
ESTIMATE_CURRENCY = "USD"


def flag_legacy_runs(apps, schema_editor):
    ReconciliationRun = apps.get_model("reconciliation", "ReconciliationRun")
    runs = ReconciliationRun._base_manager.values_list("organization_id", "pk", "currency", "inputs")
    flagged: dict[int, list[int]] = {}
    for organization_id, pk, currency, inputs in runs.order_by("organization_id", "pk").iterator():
        invoice_currencies = set((inputs or {}).get("invoice_currencies") or [])
        if currency != ESTIMATE_CURRENCY or invoice_currencies - {currency}:
            flagged.setdefault(organization_id, []).append(pk)
    # One organisation at a time: every statement names the organisation (routable when distributed).
    for organization_id, pks in flagged.items():
        for start in range(0, len(pks), 1000):
            ReconciliationRun._base_manager.filter(
                organization_id=organization_id, pk__in=pks[start : start + 1000]
            ).update(legacy_unconverted=True)


class Migration(migrations.Migration):
    dependencies = [
        ("fx", "0001_initial"),
        ("reconciliation", "0003_tenant_fk"),
        ("tenancy", "0006_organization_fx_policy"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reconciliationrun",
            name="conversion",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="The exchange rates that brought amounts of other currencies into the run's currency; empty when every amount was already in it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="fx.conversion",
            ),
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="legacy_unconverted",
            field=models.BooleanField(
                default=False,
                help_text="Made before amounts were converted: its figures add USD estimates and invoices of any currency as if they were the run's currency. Reconcile again.",
            ),
        ),
        migrations.AddField(
            model_name="reconciliationrun",
            name="overlap_nano",
            field=models.BigIntegerField(
                default=0,
                help_text="Estimated cost on days where request-level usage (gateway logs) and provider usage exports both cover the same provider and model: at most this much may be counted twice.",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="reconciliationrun",
            constraint=apps.tenancy.keys.TenantForeignKeyConstraint(
                field="conversion", name="reconciliation_reconciliationrun_conversion_id_tfk"
            ),
        ),
        migrations.RunPython(flag_legacy_runs, migrations.RunPython.noop, elidable=True),
    ]
