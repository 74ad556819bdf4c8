"""Backtest the forecast methods on an organisation's history and print the table as JSON.

Rolling origin, one month ahead: for every month t with at least the minimum history before it, each method
forecasts t from the months before it; MAPE, bias and interval coverage are pooled over the cost centres'
series, and computed apart for the organisation's total. The last full month is the last one used.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.calendar import month_before
from apps.showback.selectors_forecasts import MAX_HISTORY_MONTHS, forecast_backtest
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = "Backtest the monthly forecast methods on an organisation's spend history (prints JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--through", help="The last full month to use, YYYY-MM (default: last month).")
        parser.add_argument("--months", type=int, default=MAX_HISTORY_MONTHS)

    def handle(self, *args, org: str, through: str | None, months: int, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation “{org}”.")
        if through:
            from apps.core.calendar import parse_period

            last = parse_period(through)
        else:
            last = month_before(timezone.now().date().replace(day=1))
        with organization_scope(organization):
            table = forecast_backtest(organization=organization, through=last, months=months)
        self.stdout.write(json.dumps(table, indent=2))
