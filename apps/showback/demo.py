"""Demo forecasts and alerts, as the beat tasks would have left them on the demo's "today", 7 December 2026
(the day after the last demo usage, apps/usage/demo.py):

- acme: a forecast snapshot of every month from April 2026 (its first closed month) to December, each taken
  on the month's first day from the months before it, as ``snapshot_forecasts`` does when a period opens; the
  closed months (April to September) can then be compared with what was charged. globex (showback, nothing
  closed): December's only;
- spend spikes of the last week (``detect_spikes``): data-platform's backfill of 3 December;
- the budget thresholds (apps/owners/demo.py) evaluated once for November (open) and December to date. The
  demo budgets are planned from the teams' spend, so some fire: the conversational assistant, growing faster
  than it plans, is over its November budget; data-platform's backfill takes it past 80% of its halved
  December budget and its forecast past 100%.

Idempotent: a month's snapshots are taken once, an alert fires once per threshold (or spike) and period, so a
second run adds nothing."""

from datetime import date, timedelta

from apps.tenancy.scoping import organization_scope

from .services_budgets import budgets_evaluate, months_to_evaluate
from .services_forecasts import forecast_snapshot_take
from .services_spikes import detect_spikes

DEMO_TODAY = date(2026, 12, 7)
SNAPSHOT_MONTHS = {
    "acme": [date(2026, month, 1) for month in range(4, 13)],  # April to December 2026
    "globex": [date(2026, 12, 1)],
}
SPIKE_DAYS = 7  # the days before DEMO_TODAY the hourly spike detection has looked at


def seed_demo(*, organization, stdout) -> None:
    slug = organization.slug
    months = SNAPSHOT_MONTHS.get(slug, [])
    with organization_scope(organization):
        taken = [len(forecast_snapshot_take(organization=organization, month=month, as_of=month)) for month in months]
        if months:
            stdout.write(
                f"  {slug}: forecast snapshots {sum(taken)} taken for {sum(1 for n in taken if n)} month(s) "
                f"({months[0]:%Y-%m} to {months[-1]:%Y-%m}, each on its first day)"
            )
        spikes = [
            alert
            for back in range(SPIKE_DAYS, 0, -1)
            for alert in detect_spikes(organization=organization, day=DEMO_TODAY - timedelta(days=back))
        ]
        stdout.write(f"  {slug}: spend spikes {len(spikes)} raised" + "".join(f"; {a.title}" for a in spikes))
        for month in months_to_evaluate(organization=organization, today=DEMO_TODAY):
            result = budgets_evaluate(organization=organization, month=month, today=DEMO_TODAY)
            stdout.write(
                f"  {slug}: budget thresholds for {month:%Y-%m}: {result.checked} checked, "
                f"{len(result.fired)} fired, {result.already} already in alarm"
            )
