from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_chain_check, audit_chain_verify
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = (
        "Verify every organisation's audit hash chain (or one with --org) and that it still reaches the last head "
        "published to the anchor directory. Exit 1 when one is broken. --record keeps the finding and e-mails the "
        "organisation's admins on a failure, as the nightly task does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Only this organisation.")
        parser.add_argument("--record", action="store_true", help="Record the finding and alert on a failure.")

    def handle(self, *args, org=None, record=False, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organisation with slug {org!r}.")
        broken = []
        for organization in organizations:
            with organization_scope(organization):
                if record:
                    audit_chain_check(organization=organization)
                result = audit_chain_verify(organization=organization)
            if result.ok:
                anchored = (
                    f"reaches published head #{result.anchored_seq}"
                    if result.anchored_seq is not None
                    else result.anchor_note
                )
                self.stdout.write(f"{organization.slug}: intact ({result.events_checked} events; {anchored})")
            else:
                self.stderr.write(f"{organization.slug}: BROKEN at {result.problem}")
                broken.append(organization.slug)
        if broken:
            raise CommandError(f"Audit chain broken for: {', '.join(broken)}", returncode=1)
