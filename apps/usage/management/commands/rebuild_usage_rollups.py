"""``manage.py rebuild_usage_rollups [--org SLUG]``: make the monthly rollups (MonthlyUsage,
MonthlyDetailUsage) anew from the daily cube, for one organisation or every one. The writer keeps them
in step by itself; this is for a cube changed another way (a bulk load, a repair)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope
from apps.usage.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the monthly usage rollups from the daily cube (one organisation with --org, else all)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation slug (default: every organisation).")

    def handle(self, *args, org: str | None, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organisation {org!r}.")
        for organization in organizations:
            with transaction.atomic(), organization_scope(organization):
                rollups_rebuild(organization=organization)
            self.stdout.write(f"{organization.slug}: monthly rollups rebuilt")
