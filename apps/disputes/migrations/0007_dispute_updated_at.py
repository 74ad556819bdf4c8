"""``Dispute.updated_at`` (issue 17), for ``?updated_since=``, and its index. Existing disputes get the time
of this migration (a client that synced before sees them once more, never misses one)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0006_tenant_fk"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispute",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, help_text="Last change (opened, resolved)."),
        ),
        migrations.AddIndex(
            model_name="dispute",
            index=models.Index(fields=["organization", "updated_at"], name="dispute_org_updated"),
        ),
    ]
