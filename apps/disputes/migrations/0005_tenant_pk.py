"""Issue 22, first wave: the disputes tables keyed (organization_id, id).

Relations between tenant tables become TenantForeignKey (their single-column constraints go) and both tables get
PRIMARY KEY (organization_id, id). The composite foreign keys are the second wave (0006_tenant_fk).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0004_adjustment_moved_to_statements"),
        ("owners", "0004_tenant_fk"),
        ("periods", "0004_tenant_fk"),
        ("statements", "0006_tenant_fk"),
        ("tenancy", "0004_tenant_pk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="dispute",
            name="billing_period",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="periods.billingperiod"
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="line",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="Empty when the whole statement is disputed.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="disputes",
                to="statements.statementline",
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                help_text="The statement's owner.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="disputes",
                to="owners.budgetowner",
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="recharge_owner",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="Who pays the accepted amount instead.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="owners.budgetowner",
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="statement",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="disputes", to="statements.statement"
            ),
        ),
        migrations.AlterField(
            model_name="disputecomment",
            name="dispute",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="comments", to="disputes.dispute"
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="dispute",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="disputes_dispute_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="disputecomment",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="disputes_disputecomment_tenant_pk"),
        ),
    ]
