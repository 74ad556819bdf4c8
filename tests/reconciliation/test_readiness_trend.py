"""Readiness over time: each month's KPIs from its latest run; a month without a run says so."""

import datetime
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.reconciliation.selectors import readiness_trend
from apps.reconciliation.services import reconciliation_run_create
from tests.factories.reconciliation import ReconciliationRunFactory

from .conftest import OCT

pytestmark = pytest.mark.django_db

SEP, NOV = datetime.date(2026, 9, 1), datetime.date(2026, 11, 1)


def test_each_month_shows_its_latest_run_and_a_month_without_one_has_no_figures(
    world, october, django_assert_max_num_queries
):
    organization = world.org("a")
    with scope(organization=organization):
        # An earlier October run with other figures: the later run is the month's answer.
        ReconciliationRunFactory(organization=organization, period=OCT, platform_overhead_pct=Decimal("99.00"))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    with django_assert_max_num_queries(2):
        months = readiness_trend(organization=organization, months=[SEP, OCT, NOV])
    assert [month.month for month in months] == [SEP, OCT, NOV]
    september, october_month, november = months
    assert september.run is None and november.run is None
    assert (september.variance_pct, september.untagged_team, september.overhead_pct) == (None, None, None)
    assert october_month.run == run
    # By hand (tests/reconciliation/conftest.py): 1,740 requests, 30 without a team, 7 without a feature;
    # estimated 95.00 + 94.99 + 3.00 (+ google none) = 192.99 against 100 + 100 + 7 = 207.00 invoiced.
    assert (october_month.untagged_team, october_month.untagged_feature) == (30, 7)
    assert october_month.total_requests == 1740
    assert october_month.untagged_team_pct == Decimal("1.72")  # 30 / 1740
    assert october_month.untagged_feature_pct == Decimal("0.40")  # 7 / 1740
    assert october_month.overhead_pct == Decimal("10.36") and october_month.overhead_ok
    providers = {line.provider: line.variance_pct for line in october_month.providers}
    assert providers["openai"] == Decimal("5.00") and providers["anthropic"] == Decimal("5.01")
    assert (run.estimated_nano, run.invoiced_nano) == (192_990_000_000, 207_000_000_000)
    assert october_month.variance_pct == Decimal("6.77")  # 14.01 / 207


def test_another_organisations_runs_never_show(world, october):
    reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    (month,) = readiness_trend(organization=world.org("b"), months=[OCT])
    assert month.run is None
