"""Forecast snapshots from the cube: what is taken, from which months, once; immutability; the daily task;
accuracy against the charged amounts of a closed month, computed by hand."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.core.calendar import month_after, month_before
from apps.showback.charge_basis import ratio_of, scale_forecast
from apps.showback.forecast import Z_INTERVAL, Forecast, months_back
from apps.showback.forecast import accuracy as fc_accuracy
from apps.showback.models import ForecastSnapshot, ImmutableSnapshotError
from apps.showback.selectors_forecasts import charge_ratios, forecast_accuracy
from apps.showback.services_forecasts import forecast_snapshot_take
from apps.showback.tasks import snapshot_forecasts
from apps.statements.models import Statement
from tests import scenarios
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory
from tests.factories.usage import DailyUsageFactory

from .cube import G, plant, tagset

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


def test_daily_task_takes_this_months_snapshot_once(world, eager_celery):
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


def test_ratio_and_scaling_by_hand():
    # 16.107043317 charged on 15.007 of usage: 1.073302013527… → 1.073302014 (nine decimals, half-even)
    assert ratio_of(16_107_043_317, 15_007_000_000) == Decimal("1.073302014")
    assert ratio_of(3, 2) == Decimal("1.500000000") and ratio_of(2, 3) == Decimal("0.666666667")
    usage = Forecast(amount_nano=10 * G, lower_nano=8 * G, upper_nano=13 * G, method="ets_damped", history_months=7)
    charged = scale_forecast(usage, Decimal("1.073302014"))
    assert (charged.amount_nano, charged.lower_nano, charged.upper_nano) == (
        10_733_020_140,
        8_586_416_112,
        13_952_926_182,  # 13 × 1.073302014 = 13.952926182
    )
    assert (charged.method, charged.history_months) == ("ets_damped", 7)


def test_without_a_closed_period_the_snapshot_is_a_usage_forecast(world):
    organization = world.org("a")
    owners_with_teams(organization)
    history(organization)
    with scope(organization=organization):
        made = forecast_snapshot_take(organization=organization, month=MONTH, as_of=MONTH)
    for snap in made:
        assert (snap.basis, snap.charge_ratio, snap.ratio_periods) == ("usage", Decimal(1), 0)
        assert snap.usage_nano == snap.amount_nano
    with scope(organization=organization):
        event = AuditEvent.objects.get(organization=organization, action="forecast.snapshot_taken")
    assert event.after["charged_basis"] == 0


NOV = datetime.date(2026, 11, 1)


def october_closed_and_november_used(organization):
    """The SHARED month closed in October; November's usage and invoice the same as October's (so its charge,
    once allocated and closed, is October's again)."""
    closed = scenarios.closed(scenarios.issued(organization))
    with scope(organization=organization):
        for tags, input_nano, output_nano, requests in scenarios.SHARED.usage:
            DailyUsageFactory(
                organization=organization,
                day=NOV + datetime.timedelta(days=scenarios.SHARED.day - 1),
                tagset=tagset(organization, tags),
                cost_input_nano=input_nano,
                cost_output_nano=output_nano,
                requests=requests,
                input_tokens=1000 * requests,
                output_tokens=100 * requests,
            )
        invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=NOV)
        InvoiceLineFactory(invoice=invoice, amount_nano=scenarios.SHARED.invoice_nano)
    return closed


def test_with_a_closed_period_the_snapshot_forecasts_the_charge(world):
    organization = world.org("a")
    october = october_closed_and_november_used(organization)
    search = october.owners["CC-1101"]
    with scope(organization=organization):
        charged = {
            s.owner_id: s.total_nano
            for s in Statement.objects.filter(organization=organization, status=Statement.Status.FINAL)
        }
        made = {s.owner_id: s for s in forecast_snapshot_take(organization=organization, month=NOV, as_of=NOV)}
    # CC-1101: October's usage 10.004 + 5.003 = 15.007 (one month: the fallback, 15.007 ± 25%), charged
    # 16.107043317 (test_accuracy_against_final_statements_by_hand): ratio 1.073302014
    assert charged[search.pk] == 16_107_043_317
    snap = made[search.pk]
    assert (snap.basis, snap.ratio_periods, snap.charge_ratio) == ("charged", 1, Decimal("1.073302014"))
    assert snap.usage_nano == 15_007_000_000 and snap.method == "mean3"
    assert snap.amount_nano == 16_107_043_324  # 15.007 × 1.073302014 = 16.107043324098
    assert snap.lower_nano == 12_080_282_493  # 15.007 × 0.75 = 11.25525 × 1.073302014 = 12.0802824930735
    assert snap.upper_nano == 20_133_804_155  # 15.007 × 1.25 = 18.75875 × 1.073302014 = 20.1338041551225
    # the organisation: every final statement over every request's usage (20.508)
    total = sum(charged.values())
    org = made[None]
    assert org.charge_ratio == Decimal(round(Fraction(total * G, 20_508_000_000))).scaleb(-9)
    assert org.usage_nano == 20_508_000_000 and org.basis == "charged"
    assert org.amount_nano == round(Fraction(20_508_000_000) * Fraction(org.charge_ratio))
    with scope(organization=organization):
        ratios = charge_ratios(organization=organization, month=NOV)
        assert charge_ratios(organization=organization, month=scenarios.OCT) == {}  # nothing closed before
    assert ratios[search.pk].charged_nano == 16_107_043_317 and ratios[search.pk].usage_nano == 15_007_000_000


def test_accuracy_of_a_charge_forecast_is_near_the_charge(world):
    """November is October again: its charge forecast (October's ratio × October's usage) lands within a
    nano-rounding of November's final statements, where the usage forecast would have been 7% under."""
    organization = world.org("a")
    october = october_closed_and_november_used(organization)
    with scope(organization=organization):
        forecast_snapshot_take(organization=organization, month=NOV, as_of=NOV)
    november = scenarios.closed(scenarios.issued(organization, period=NOV))
    with scope(organization=organization):
        result = forecast_accuracy(organization=organization, visible_ids=None)
        charged_nov = {
            s.owner_id: s.total_nano
            for s in Statement.objects.filter(organization=organization, status=Statement.Status.FINAL, period=NOV)
        }
    assert november.owners["CC-1101"].pk == october.owners["CC-1101"].pk
    rows = {(r.owner.code if r.owner else None, r.period): r for r in result.rows}
    search = rows[("CC-1101", NOV)]
    assert search.actual_nano == charged_nov[october.owners["CC-1101"].pk] == 16_107_043_317
    assert search.forecast_nano == 16_107_043_324 and search.basis == "charged"
    assert search.forecast_nano - search.actual_nano == 7  # the ratio's rounding to nine decimals
    assert search.ape_pct == Decimal("0.0")
    # the usage forecast against the usage: exact (November used what October did)
    assert search.spend_ape_pct == Decimal("0.0") and search.spent_nano == 15_007_000_000
    # the usage forecast against the charge would be 15.007 / 16.107043317 − 1 = −6.83%
    assert fc_accuracy(forecast_nano=search.usage_forecast, actual_nano=search.actual_nano)[1] < Decimal("-0.068")
    org = rows[(None, NOV)]
    # every final statement: 21.008; the ratio 21.008 / 20.508 = 1.024380729471… → 1.024380729; × 20.508 =
    # 21.007999990: ten nano under, the ratio's rounding
    assert org.actual_nano == sum(charged_nov.values()) == 21_008_000_000
    assert org.charge_ratio == Decimal("1.024380729") and org.forecast_nano == 21_007_999_990
    summaries = {(s.owner.code if s.owner else None): s for s in result.summaries}
    assert summaries[None].wape < Decimal("0.000001") and summaries["CC-1101"].wape < Decimal("0.000001")


def test_forecasts_page_shows_the_charge_forecast_and_its_ratio(world, django_assert_max_num_queries):
    """The SHARED month closed two months ago: this month's CC-1101 forecast is the mean of its usage since
    (15.007, then nothing: 7.5035) times the closed month's ratio 1.073302014 = 8.053521662 (…049)."""
    organization = world.org("a")
    closed_month = month_before(month_before(timezone.now().date().replace(day=1)))
    scenarios.closed(scenarios.issued(organization, period=closed_month))
    client = world.login("a", "finance_admin")
    with django_assert_max_num_queries(30):
        response = client.get(reverse("showback:forecasts", kwargs={"org_slug": "alpha"}))
    assert response.status_code == 200
    rows = {(item["row"].owner.code if item["row"].owner else None): item["row"] for item in response.context["rows"]}
    search = rows["CC-1101"]
    assert search.usage_forecast.amount_nano == 7_503_500_000
    assert (search.charge.basis, search.charge.ratio) == ("charged", Decimal("1.073302014"))
    assert search.forecast.amount_nano == 8_053_521_662
    assert b"1.0733" in response.content and b"1 closed period" in response.content
