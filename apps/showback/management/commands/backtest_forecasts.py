"""Backtest the forecast methods on an organisation's history and print the table as JSON.

Rolling origin, one month ahead: for every month t with at least the minimum history before it, each method
forecasts t from the months before it; MAPE, bias and interval coverage are pooled over the cost centres'
series, and computed apart for the organisation's total. The last full month is the last one used.
``--basis charged`` scores the charge forecast (usage forecast times the owner's charge ratio) against the
closed periods' final statements instead.
"""

import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.calendar import month_before
from apps.showback import forecast as fc
from apps.showback.selectors_forecasts import MAX_HISTORY_MONTHS, forecast_backtest
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = "Backtest the monthly forecast methods on an organisation's spend history (prints JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--through", help="The last full month to use, YYYY-MM (default: last month).")
        parser.add_argument("--months", type=int, default=MAX_HISTORY_MONTHS)
        parser.add_argument(
            "--basis",
            choices=("usage", "charged"),
            default="usage",
            help="usage: every method against the months' usage; charged: the default method times each "
            "owner's charge ratio against the closed periods' final statements.",
        )
        parser.add_argument(
            "--widen", type=Decimal, default=fc.INTERVAL_WIDEN, help="Scale of the ETS interval's half-widths."
        )

    def handle(self, *args, org: str, through: str | None, months: int, basis: str, widen: Decimal, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation “{org}”.")
        if through:
            from apps.core.calendar import parse_period

            last = parse_period(through)
        else:
            last = month_before(timezone.now().date().replace(day=1))
        with organization_scope(organization):
            table = forecast_backtest(organization=organization, through=last, months=months, basis=basis, widen=widen)
        self.stdout.write(json.dumps(table, indent=2))
