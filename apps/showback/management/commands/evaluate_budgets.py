"""``manage.py evaluate_budgets [--org SLUG] [--month YYYY-MM] [--today YYYY-MM-DD]``: evaluate the budget
thresholds now, as the hourly beat task does (the month in progress and the last one until it closes), or for
one month. A threshold already in ALARM for the month is never raised again."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.calendar import parse_period
from apps.showback.services_budgets import budgets_evaluate, months_to_evaluate
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = "Evaluate budget thresholds now and raise the alerts that are due (one organisation with --org)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation slug (default: every organisation).")
        parser.add_argument("--month", help="YYYY-MM (default: this month, and the last one until it closes).")
        parser.add_argument("--today", help="YYYY-MM-DD: the day to evaluate as (default: today, UTC).")

    def handle(self, *args, org: str | None, month: str | None, today: str | None, **options):
        try:
            day = date.fromisoformat(today) if today else timezone.now().date()
            months = [parse_period(month)] if month else None
        except (ValueError, ValidationError) as exc:
            raise CommandError(f"{exc}") from exc
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organisation {org!r}.")
        for organization in organizations:
            with organization_scope(organization):
                for each in months or months_to_evaluate(organization=organization, today=day):
                    result = budgets_evaluate(organization=organization, month=each, today=day)
                    self.stdout.write(
                        f"{organization.slug} {each:%Y-%m}: {result.checked} thresholds checked, "
                        f"{len(result.fired)} fired, {result.already} already in alarm"
                    )
