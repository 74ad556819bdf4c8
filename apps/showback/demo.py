"""Demo alerts: the budget thresholds (apps/owners/demo.py) evaluated once, as the hourly beat task would on
the demo's "today", 7 December 2026: November (open) and December to date. The demo budgets are planned from
the teams' spend (apps/usage/demo.py), so some fire: the conversational assistant, growing faster than it
plans, is over its November budget; data-platform's 3 December backfill takes it past 80% of its halved
December budget and its forecast past 100%. Idempotent: an alert fires once per threshold and month, so a
second run raises nothing."""

from datetime import date

from apps.tenancy.scoping import organization_scope

from .services_budgets import budgets_evaluate, months_to_evaluate

DEMO_TODAY = date(2026, 12, 7)  # the day after the last demo usage (apps/usage/demo.py)


def seed_demo(*, organization, stdout) -> None:
    with organization_scope(organization):
        for month in months_to_evaluate(organization=organization, today=DEMO_TODAY):
            result = budgets_evaluate(organization=organization, month=month, today=DEMO_TODAY)
            stdout.write(
                f"  {organization.slug}: budget thresholds for {month:%Y-%m}: {result.checked} checked, "
                f"{len(result.fired)} fired, {result.already} already in alarm"
            )
