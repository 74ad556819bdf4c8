"""Pull provider connections now (all active ones, or those of one organisation, or one connection)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from apps.connectors.models import ConnectorPull, ProviderConnection
from apps.connectors.tasks import pull_one
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Pull provider usage and cost reports now; prints one JSON line per connection with its figures."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organisation's connections (its slug).")
        parser.add_argument("--connection", type=int, help="Only this connection (its id).")

    def handle(self, *args, org=None, connection=None, **options):
        with scopes_disabled():
            rows = ProviderConnection.objects.filter(is_active=True)
            if org:
                organization = Organization.objects.filter(slug=org).first()
                if organization is None:
                    raise CommandError(f"No organisation {org!r}.")
                rows = rows.filter(organization=organization)
            if connection:
                rows = ProviderConnection.objects.filter(pk=connection, **({"organization__slug": org} if org else {}))
            ids = list(rows.order_by("organization_id", "pk").values_list("pk", flat=True))
        if connection and not ids:
            raise CommandError(f"No connection {connection}{' in ' + org if org else ''}.")
        failed = 0
        for pk in ids:
            outcome = pull_one(pk, ConnectorPull.Trigger.COMMAND)
            failed += outcome.get("status") == "failed"
            self.stdout.write(json.dumps(outcome))
        if failed:
            raise CommandError(f"{failed} of {len(ids)} pulls failed.")
