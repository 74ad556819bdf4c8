"""Issue 17: an API client is a principal of its own with an explicit role (a service account).

Until now a token acted with its creator's current role. The existing clients keep what they could do: each
takes its creator's current role in the client's organisation, or viewer when nobody (no creator, or a creator
who is no longer a member) stands behind it. Approving, closing, reopening, overriding and resolving disputes
are refused to every token from now on whatever its role (``tenancy.roles.HUMAN_ONLY_PERMS``).
"""

from django.db import migrations, models


def roles_from_creators(apps, schema_editor):
    ApiClient = apps.get_model("accounts", "ApiClient")
    Membership = apps.get_model("tenancy", "Membership")
    clients = ApiClient.objects.filter(created_by__isnull=False).values_list("pk", "organization_id", "created_by_id")
    for pk, organization_id, user_id in clients:
        role = (
            Membership.objects.filter(organization_id=organization_id, user_id=user_id)
            .values_list("role", flat=True)
            .first()
        )
        if role:
            ApiClient.objects.filter(organization_id=organization_id, pk=pk).update(role=role)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_tenant_pk"),
        ("tenancy", "0007_organization_dispute_response_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="apiclient",
            name="role",
            field=models.CharField(
                choices=[
                    ("org_admin", "Org admin"),
                    ("finance_admin", "Finance admin (approver)"),
                    ("finance_analyst", "Finance analyst (preparer)"),
                    ("budget_owner", "Budget owner"),
                    ("viewer", "Viewer"),
                ],
                default="viewer",
                help_text="What the token may do where a role decides (preparing periods); human-only actions never.",
                max_length=32,
            ),
        ),
        migrations.RunPython(roles_from_creators, migrations.RunPython.noop, elidable=False),
    ]
