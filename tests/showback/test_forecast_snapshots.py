"""Forecast snapshots from the cube: what is taken, from which months, once; immutability; the daily task;
accuracy against the charged amounts of a closed month, computed by hand."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.core.calendar import month_after, month_before
from apps.showback.forecast import Z_INTERVAL, months_back
from apps.showback.models import ForecastSnapshot, ImmutableSnapshotError
from apps.showback.selectors_forecasts import forecast_accuracy
from apps.showback.services_forecasts import forecast_snapshot_take
from apps.showback.tasks import snapshot_forecasts
from apps.statements.models import Statement
from tests import scenarios
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory

from .cube import G, plant

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 9, 1)


def owners_with_teams(organization):
    """CC-A owns team search, CC-B owns team ads."""
    with scope(organization=organization):
        team = TagDimensionFactory(organization=organization, key="team")
        a = BudgetOwnerFactory(organization=organization, code="CC-A")
        b = BudgetOwnerFactory(organization=organization, code="CC-B")
        TagValueFactory(dimension=team, value="search", owner=a)
        TagValueFactory(dimension=team, value="ads", owner=b)
    return a, b


def history(organization):
    """Eight months before September 2026 of search at 10.00 a month; ads 4.00 and 6.00 in the last two;
    untagged 1.00 a month (the organisation's only); and September itself (which no forecast may see)."""
    cells = {}
    for month in months_back(month_before(MONTH), 8):
        cells[(month + datetime.timedelta(days=2), "search", "gpt-4o")] = 10 * G
        cells[(month + datetime.timedelta(days=2), None, "gpt-4o")] = 1 * G
    cells[(datetime.date(2026, 7, 9), "ads", "gpt-4o")] = 4 * G
    cells[(datetime.date(2026, 8, 9), "ads", "gpt-4o")] = 6 * G
    cells[(datetime.date(2026, 9, 2), "search", "gpt-4o")] = 500 * G
    plant(organization, cells)


def test_snapshot_per_cost_centre_and_organisation_from_months_before(world):
    organization = world.org("a")
    a, b = owners_with_teams(organization)
    history(organization)
    with scope(organization=organization):
        made = forecast_snapshot_take(organization=organization, month=MONTH, as_of=datetime.date(2026, 9, 1))
    by_owner = {s.owner_id: s for s in made}
    assert set(by_owner) == {None, a.pk, b.pk}
    # search: flat 10.00 for eight months forecasts 10.00 exactly (September's 500 unseen)
    search = by_owner[a.pk]
    assert (search.amount_nano, search.lower_nano, search.upper_nano) == (10 * G, 10 * G, 10 * G)
    assert (search.method, search.history_months, search.currency) == ("ets_damped", 8, "USD")
    assert search.history_through == datetime.date(2026, 8, 1)
    # ads: two months (4.00, 6.00) → the fallback: mean 5.00 ± z × sd(4, 6) = z × 1.41421356…
    ads = by_owner[b.pk]
    assert (ads.method, ads.history_months, ads.amount_nano) == ("mean3", 2, 5 * G)
    half = Z_INTERVAL * Decimal(G) * Decimal(2).sqrt()
    assert abs(ads.upper_nano - (5 * G + half)) <= 1 and abs(ads.lower_nano - (5 * G - half)) <= 1
    # organisation: 11, 11, 11, 11, 11, 11, 15, 17 (untagged included), ETS with a damped trend
    org = by_owner[None]
    assert org.method == "ets_damped" and org.history_months == 8
    assert org.lower_nano <= org.amount_nano <= org.upper_nano
    assert 11 * G < org.amount_nano < 30 * G
    with scope(organization=organization):
        event = AuditEvent.objects.get(organization=organization, action="forecast.snapshot_taken")
    assert event.after["snapshots"] == 3 and event.after["history_through"] == "2026-08"


def test_snapshot_is_idempotent_and_immutable(world):
    organization = world.org("a")
    a, _b = owners_with_teams(organization)
    history(organization)
    with scope(organization=organization):
        first = forecast_snapshot_take(organization=organization, month=MONTH, as_of=datetime.date(2026, 9, 3))
        again = forecast_snapshot_take(organization=organization, month=MONTH, as_of=datetime.date(2026, 9, 20))
        assert len(first) == 3 and again == []
        assert ForecastSnapshot.objects.filter(organization=organization, period=MONTH).count() == 3
        snap = ForecastSnapshot.objects.get(organization=organization, owner=a, period=MONTH)
        snap.amount_nano = 1
        with pytest.raises(ImmutableSnapshotError):
            snap.save()
        assert ForecastSnapshot.objects.get(pk=snap.pk).amount_nano == 10 * G
        assert AuditEvent.objects.filter(organization=organization, action="forecast.snapshot_taken").count() == 1


def test_a_snapshot_taken_ahead_uses_only_months_before_the_day(world):
    organization = world.org("a")
    a, _b = owners_with_teams(organization)
    history(organization)
    with scope(organization=organization):
        made = forecast_snapshot_take(organization=organization, month=MONTH, as_of=datetime.date(2026, 8, 20))
    search = next(s for s in made if s.owner_id == a.pk)
    assert search.history_through == datetime.date(2026, 7, 1) and search.history_months == 7


def test_the_other_organisation_gets_nothing(world):
    owners_with_teams(world.org("a"))
    history(world.org("a"))
    other = world.org("b")
    with scope(organization=other):
        assert forecast_snapshot_take(organization=other, month=MONTH, as_of=MONTH) == []
        assert not ForecastSnapshot.objects.filter(organization=other).exists()


def test_daily_task_takes_this_months_snapshot_once(world):
    organization = world.org("a")
    a, _b = owners_with_teams(organization)
    this_month = timezone.now().date().replace(day=1)
    last = month_before(this_month)
    plant(organization, {(last + datetime.timedelta(days=1), "search", "gpt-4o"): 3 * G})
    assert snapshot_forecasts.delay().get() == {"alpha": 2, "beta": 0}
    assert snapshot_forecasts.delay().get() == {"alpha": 0, "beta": 0}
    with scope(organization=organization):
        snap = ForecastSnapshot.objects.get(organization=organization, owner=a)
    assert (snap.period, snap.amount_nano, snap.method, snap.history_through) == (this_month, 3 * G, "mean3", last)
    assert snap.period == month_after(last)


def test_accuracy_against_final_statements_by_hand(world):
    organization = world.org("a")
    issued = scenarios.closed(scenarios.issued(organization))
    october = scenarios.OCT
    with scope(organization=organization):
        charged = {
            s.owner.code: s.total_nano
            for s in Statement.objects.filter(organization=organization, status=Statement.Status.FINAL)
        }
        search, ads = issued.owners["CC-1101"], issued.owners["CC-1201"]
        common = {"organization": organization, "period": october, "currency": "USD", "history_months": 6}
        common["history_through"] = datetime.date(2026, 9, 1)
        ForecastSnapshot.objects.create(
            owner=search, amount_nano=18 * G, lower_nano=15 * G, upper_nano=20 * G, method="ets_damped", **common
        )
        ForecastSnapshot.objects.create(
            owner=ads, amount_nano=4 * G, lower_nano=3 * G, upper_nano=5 * G, method="mean3", **common
        )
        ForecastSnapshot.objects.create(
            owner=None, amount_nano=20 * G, lower_nano=18 * G, upper_nano=24 * G, method="ets_damped", **common
        )
        result = forecast_accuracy(organization=organization, visible_ids=None)
        only_ads = forecast_accuracy(organization=organization, visible_ids={ads.pk})
    # The SHARED month's final statements (tests/scenarios.py): 16.11, 4.55 and 0.35 (rounded).
    assert charged["CC-1101"] == pytest.approx(16.11 * G, abs=0.006 * G)
    total = sum(charged.values())
    rows = {(r.owner.code if r.owner else None): r for r in result.rows}
    assert rows["CC-1101"].actual_nano == charged["CC-1101"]
    assert rows["CC-1101"].ape == Decimal(abs(18 * G - charged["CC-1101"])) / Decimal(charged["CC-1101"])
    assert rows["CC-1101"].bias == Decimal(18 * G - charged["CC-1101"]) / Decimal(charged["CC-1101"])
    assert rows["CC-1201"].bias == Decimal(4 * G - charged["CC-1201"]) / Decimal(charged["CC-1201"])
    assert rows["CC-1201"].bias < 0 and rows["CC-1101"].bias > 0
    assert rows[None].actual_nano == total
    assert rows[None].ape == Decimal(abs(20 * G - total)) / Decimal(total)
    # CC-1101: 18 / 16.107043317 − 1 = 0.11752…: within 12%, mature; CC-1201: 4 / 4.55… − 1 ≈ −12.1%: not
    assert rows["CC-1101"].mature is True and rows["CC-1201"].mature is False
    assert rows["CC-1101"].ape_pct == Decimal("11.8")
    # against the month's usage (tests/scenarios.py SHARED): search 10.004 + 5.003 → CC-1101; every request 20.508
    assert rows["CC-1101"].spent_nano == 15_007_000_000 and rows[None].spent_nano == 20_508_000_000
    assert rows["CC-1101"].spend_ape_pct == Decimal("19.9")  # 18 / 15.007 − 1 = 0.19944…
    assert rows[None].spend_ape_pct == Decimal("2.5")  # 20 / 20.508 − 1 = −0.02477…
    summaries = {(s.owner.code if s.owner else None): s for s in result.summaries}
    assert summaries["CC-1201"].months == 1 and summaries["CC-1201"].wape == rows["CC-1201"].ape
    assert summaries["CC-1201"].spend_wape == Decimal(abs(4 * G - 4_001_000_000)) / Decimal(4_001_000_000)
    # a budget owner's view: their subtree only, no organisation figure
    assert [(r.owner.code if r.owner else None) for r in only_ads.rows] == ["CC-1201"]
