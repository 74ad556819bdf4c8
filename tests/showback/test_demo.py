"""The demo's year (at the test settings' volume): thirteen months of acme usage, April to September closed,
a forecast snapshot for every month from April, thresholds on every team, and a second seed_demo that
changes nothing at all."""

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count, Min, Sum
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.owners.models import BudgetThreshold
from apps.periods.models import BillingPeriod
from apps.showback.models import Alert, ForecastSnapshot
from apps.tenancy.models import Organization
from apps.usage.models import DailyUsage, UsageRecord

pytestmark = pytest.mark.django_db

MONTHS_FROM_APRIL = [datetime.date(2026, month, 1) for month in range(4, 13)]


def test_the_demo_year_and_a_second_seed_changes_nothing():
    call_command("seed_demo")
    with scopes_disabled():
        before = {
            "audit": AuditEvent.objects.count(),
            "alerts": list(Alert.objects.order_by("pk").values_list("pk", "key", "period")),
            "snapshots": list(ForecastSnapshot.objects.order_by("pk").values_list("pk", "amount_nano")),
            "records": UsageRecord.objects.count(),
        }
    call_command("seed_demo")
    with scopes_disabled():
        assert AuditEvent.objects.count() == before["audit"]
        assert list(Alert.objects.order_by("pk").values_list("pk", "key", "period")) == before["alerts"]
        assert list(ForecastSnapshot.objects.order_by("pk").values_list("pk", "amount_nano")) == before["snapshots"]
        assert UsageRecord.objects.count() == before["records"]

    acme = Organization.objects.get(slug="acme")
    with scope(organization=acme):
        # this month to date, last month and the same month last year all have usage
        days = DailyUsage.objects.aggregate(first=Min("day"))
        assert days["first"] == datetime.date(2025, 11, 1)
        for first, last in (
            (datetime.date(2026, 12, 1), datetime.date(2026, 12, 6)),
            (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)),
            (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31)),
        ):
            assert DailyUsage.objects.filter(day__range=(first, last)).aggregate(n=Sum("requests"))["n"] > 0
        states = dict(BillingPeriod.objects.values_list("period", "state"))
        assert [states.get(m) for m in MONTHS_FROM_APRIL[:6]] == ["closed"] * 6
        assert states[datetime.date(2026, 10, 1)] == "in_review"
        # 80% and 100% of actual, 100% of forecast, on each of the twelve team-level cost centres
        assert BudgetThreshold.objects.count() == 36
        assert set(BudgetThreshold.objects.values_list("pct", "basis").distinct()) == {
            (80, "actual"),
            (100, "actual"),
            (100, "forecast"),
        }
        # one organisation-wide snapshot for each month from April, taken from the months before it
        org_wide = ForecastSnapshot.objects.filter(owner__isnull=True)
        assert list(org_wide.order_by("period").values_list("period", flat=True)) == MONTHS_FROM_APRIL
        for snapshot in org_wide:
            assert snapshot.history_through < snapshot.period
        per_month = dict(ForecastSnapshot.objects.values_list("period").annotate(n=Count("id")).order_by())
        assert set(per_month) == set(MONTHS_FROM_APRIL)
    globex = Organization.objects.get(slug="globex")
    with scope(organization=globex):
        assert set(ForecastSnapshot.objects.values_list("period", flat=True)) == {datetime.date(2026, 12, 1)}
        assert not BillingPeriod.objects.filter(state="closed").exists()
