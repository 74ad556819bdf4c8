"""An index for ``?updated_since=`` (issue 17): a client polling the periods it has not seen yet reads
(organization_id, updated_at >= …) by index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("periods", "0005_latearrival_currency"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="billingperiod",
            index=models.Index(fields=["organization", "updated_at"], name="billingperiod_org_updated"),
        ),
    ]
