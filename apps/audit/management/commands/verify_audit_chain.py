from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_chain_verify
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Verify every organisation's audit hash chain (or one with --org). Exit 1 on the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Only this organisation.")

    def handle(self, *args, org=None, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organisation with slug {org!r}.")
        broken = []
        for organization in organizations:
            result = audit_chain_verify(organization=organization)
            if result.ok:
                self.stdout.write(f"{organization.slug}: intact ({result.events_checked} events)")
            else:
                self.stderr.write(f"{organization.slug}: BROKEN at {result.problem}")
                broken.append(organization.slug)
        if broken:
            raise CommandError(f"Audit chain broken for: {', '.join(broken)}", returncode=1)
