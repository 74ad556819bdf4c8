from django.db import migrations

from apps.audit.triggers import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only_triggers("audit_auditevent")]
