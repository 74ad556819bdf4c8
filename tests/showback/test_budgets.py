"""Budgets against actual per cost centre, rolled up, with thresholds that fire once per month.

The world (org "a", base currency USD; org "b" holds the same team with spend that must never show):

CC-1000 ─┬─ CC-1100 ─┬─ CC-1101   team "search"    alpha-budget_owner owns CC-1100
         │           └─ CC-1102   team "ranking"
         └─ CC-1200 ─── CC-1201   team "billing"
CC-9000 (central, no budget)      team "orphan" has no cost centre: unallocated

Every expected figure below is worked out by hand from the cells planted in the cube.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope

from apps.owners.models import Budget, BudgetThreshold
from apps.showback.budgets import budget_report, threshold_key
from apps.showback.models import Alert
from apps.showback.services import alert_raise
from apps.showback.services_budgets import budgets_evaluate
from apps.showback.tasks import evaluate_budgets
from apps.tenancy.roles import Role
from tests.event_log import events
from tests.factories.owners import BudgetFactory, BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagSetFactory, TagValueFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

D = datetime.date
OCT, SEP, JAN = D(2026, 10, 1), D(2026, 9, 1), D(2026, 1, 1)
TODAY = D(2026, 10, 20)  # the cube's latest October day is the 10th
NANO = 10**9

TREE = [
    ("CC-1000", None),
    ("CC-1100", "CC-1000"),
    ("CC-1101", "CC-1100"),
    ("CC-1102", "CC-1100"),
    ("CC-1200", "CC-1000"),
    ("CC-1201", "CC-1200"),
    ("CC-9000", None),
]
TEAMS = {"search": "CC-1101", "ranking": "CC-1102", "billing": "CC-1201", "orphan": None}


def n(text: str) -> int:
    """An amount as nano-units, exactly."""
    return int(Decimal(text) * NANO)


def _spend(organization, tagsets, team: str, day: datetime.date, amount: str) -> None:
    DailyUsageFactory(
        organization=organization,
        day=day,
        tagset=tagsets[team],
        cost_input_nano=n(amount),
        model=f"m-{day:%m%d}-{team}",  # one cube cell each
    )


def build(world, key: str) -> dict:
    organization = world.org(key)
    with scope(organization=organization):
        owners = {}
        for code, parent in TREE:
            owners[code] = BudgetOwnerFactory(
                organization=organization, code=code, parent=owners.get(parent), is_central=code == "CC-9000"
            )
        owners["CC-1100"].owner_users.set([world.user(key, Role.BUDGET_OWNER)])
        dimension = TagDimensionFactory(organization=organization, key="team")
        tagsets = {}
        for team, code in TEAMS.items():
            TagValueFactory(dimension=dimension, value=team, owner=owners[code] if code else None)
            tagsets[team] = TagSetFactory(organization=organization, tags={"team": team})
    return {"org": organization, "owners": owners, "tagsets": tagsets}


@pytest.fixture
def alpha(world):
    data = build(world, "a")
    organization, owners, tagsets = data["org"], data["owners"], data["tagsets"]
    with scope(organization=organization):
        for code, period, amount in (
            ("CC-1101", OCT, "1000.00"),
            ("CC-1102", OCT, "500.00"),
            ("CC-1100", OCT, "200.00"),
            ("CC-1201", OCT, "300.00"),
            ("CC-1101", SEP, "900.00"),
            ("CC-1101", JAN, "800.00"),
        ):
            BudgetFactory(owner=owners[code], period=period, amount=Decimal(amount), currency="USD")
        # Older data in another currency: named on the page, never converted or added.
        Budget.objects.create(
            organization=organization, owner=owners["CC-1201"], period=SEP, amount=Decimal("400.00"), currency="EUR"
        )
        for team, day, amount in (
            ("search", D(2026, 10, 3), "600.00"),
            ("search", D(2026, 10, 10), "250.50"),
            ("ranking", D(2026, 10, 5), "120.25"),
            ("billing", D(2026, 10, 10), "330.00"),
            ("orphan", D(2026, 10, 7), "10.00"),
            ("search", D(2026, 9, 15), "700.00"),
            ("billing", D(2026, 9, 2), "50.00"),
            ("search", D(2026, 1, 20), "100.00"),
            ("search", D(2025, 12, 31), "5000.00"),  # last year: outside the year to date
        ):
            _spend(organization, tagsets, team, day, amount)
    return data


@pytest.fixture
def beta(world):
    """Org b: the same codes and teams, far larger spend and budgets; none of it may reach org a."""
    data = build(world, "b")
    with scope(organization=data["org"]):
        BudgetFactory(owner=data["owners"]["CC-1101"], period=OCT, amount=Decimal("10.00"), currency="USD")
        _spend(data["org"], data["tagsets"], "search", D(2026, 10, 4), "9999.00")
        BudgetThreshold.objects.create(organization=data["org"], owner=data["owners"]["CC-1101"], pct=Decimal("80"))
    return data


def _report(data, *, month=OCT, today=TODAY, visible_ids=None):
    with scope(organization=data["org"]):
        return budget_report(organization=data["org"], month=month, today=today, visible_ids=visible_ids)


def _by_code(report) -> dict:
    return {row.owner.code: row for row in report.rows}


def test_budget_and_actual_roll_up_the_hierarchy(alpha, beta):
    rows = _by_code(_report(alpha))
    expected = {
        # code: (rolled-up budget, rolled-up actual, own budget, own actual)
        "CC-1101": ("1000.00", "850.50", "1000.00", "850.50"),
        "CC-1102": ("500.00", "120.25", "500.00", "120.25"),
        "CC-1100": ("1700.00", "970.75", "200.00", "0"),
        "CC-1201": ("300.00", "330.00", "300.00", "330.00"),
        "CC-1200": ("300.00", "330.00", None, "0"),
        "CC-1000": ("2000.00", "1300.75", None, "0"),
    }
    for code, (budget, actual, own_budget, own_actual) in expected.items():
        row = rows[code]
        assert row.month.budget_nano == n(budget), code
        assert row.month.actual_nano == n(actual), code
        assert row.own.budget_nano == (None if own_budget is None else n(own_budget)), code
        assert row.own.actual_nano == n(own_actual), code
    assert rows["CC-9000"].month.budget_nano is None and rows["CC-9000"].month.actual_nano == 0
    assert [row.owner.code for row in _report(alpha).rows] == [code for code, _ in TREE]


def test_variance_in_money_and_percent(alpha):
    rows = _by_code(_report(alpha))
    assert rows["CC-1201"].month.variance_nano == n("30.00")
    assert rows["CC-1201"].month.variance_pct == Decimal("10.00")
    assert rows["CC-1201"].month.over
    # 1300.75 − 2000 = −699.25, i.e. −34.9625 % → −34.96
    assert rows["CC-1000"].month.variance_nano == n("-699.25")
    assert rows["CC-1000"].month.variance_pct == Decimal("-34.96")
    assert rows["CC-1101"].month.used_pct == Decimal("85.05")
    assert rows["CC-9000"].month.variance_pct is None


def test_totals_add_the_roots_and_the_unallocated_spend(alpha):
    report = _report(alpha)
    assert report.unallocated.actual_nano == n("10.00")
    assert report.total.budget_nano == n("2000.00")
    assert report.total.actual_nano == n("1310.75")  # 1300.75 under CC-1000 + 10.00 unallocated
    # a direct sum over the cells planted in October
    assert report.total.actual_nano == sum(n(a) for a in ("600.00", "250.50", "120.25", "330.00", "10.00"))


def test_year_to_date_is_january_to_the_month_in_the_base_currency_only(alpha):
    report = _report(alpha)
    rows = _by_code(report)
    assert report.ytd_first == JAN
    assert rows["CC-1101"].ytd.budget_nano == n("2700.00")  # 1000 + 900 + 800
    assert rows["CC-1101"].ytd.actual_nano == n("1650.50")  # 850.50 + 700 + 100; December 2025 left out
    assert rows["CC-1201"].ytd.budget_nano == n("300.00")  # the EUR budget of September is not added
    assert rows["CC-1201"].ytd.actual_nano == n("380.00")
    assert rows["CC-1000"].ytd.budget_nano == n("3700.00")
    assert rows["CC-1000"].ytd.actual_nano == n("2150.75")
    assert rows["CC-1000"].ytd.variance_pct == Decimal("-41.87")  # −1549.25 / 3700 = −41.871…
    assert [(b.owner.code, b.currency, b.amount) for b in report.other_currency_budgets] == [
        ("CC-1201", "EUR", Decimal("400.00"))
    ]


def test_run_rate_and_forecast_use_the_cubes_latest_day(alpha):
    report = _report(alpha)
    assert report.clock.data_through == D(2026, 10, 10)
    assert (report.clock.days_elapsed, report.clock.days_in_month) == (10, 31)
    rows = _by_code(report)
    assert rows["CC-1101"].run_rate_nano == n("85.05")  # 850.50 / 10 days
    assert rows["CC-1101"].forecast_nano == n("2636.55")  # 850.50 × 31 / 10
    assert rows["CC-1101"].forecast_pct == Decimal("263.66")  # 2636.55 / 1000 = 263.655 % → half-even .66
    assert rows["CC-1000"].forecast_nano == n("4032.325")
    assert report.forecast_total == n("4063.325")  # 1310.75 × 3.1


def test_an_ended_month_is_its_own_forecast_and_a_future_one_has_none(alpha):
    september = _report(alpha, month=SEP)
    assert september.clock.ended
    rows = _by_code(september)
    assert rows["CC-1101"].forecast_nano == rows["CC-1101"].month.actual_nano == n("700.00")
    assert rows["CC-1101"].run_rate_nano == _div(n("700.00"), 30)
    november = _report(alpha, month=D(2026, 11, 1))
    assert _by_code(november)["CC-1101"].forecast_nano is None
    assert november.clock.days_elapsed == 0


def _div(a: int, b: int) -> int:
    return int((Decimal(a) / Decimal(b)).to_integral_value())


def test_a_budget_owner_sees_their_subtree_with_the_same_figures(world, alpha):
    from apps.owners.selectors import visible_owner_ids

    with scope(organization=alpha["org"]):
        visible = visible_owner_ids(membership=world.memberships[("a", Role.BUDGET_OWNER)])
    report = _report(alpha, visible_ids=visible)
    assert [(row.owner.code, row.depth) for row in report.rows] == [("CC-1100", 0), ("CC-1101", 1), ("CC-1102", 1)]
    assert report.unallocated is None
    assert report.total.budget_nano == n("1700.00") and report.total.actual_nano == n("970.75")
    assert report.other_currency_budgets == []  # CC-1201's EUR budget is outside the subtree


# --- thresholds ------------------------------------------------------------------------------------


def _threshold(data, code: str, pct: str, basis=BudgetThreshold.Basis.ACTUAL, **kwargs) -> BudgetThreshold:
    with scope(organization=data["org"]):
        return BudgetThreshold.objects.create(
            organization=data["org"], owner=data["owners"][code], pct=Decimal(pct), basis=basis, **kwargs
        )


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run the after-commit e-mails of what is evaluated inside it (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _evaluate(data, *, month=OCT, today=TODAY, mailed=None):
    with scope(organization=data["org"]):
        if mailed is None:
            return budgets_evaluate(organization=data["org"], month=month, today=today)
        with mailed():
            return budgets_evaluate(organization=data["org"], month=month, today=today)


def _alerts(data) -> dict[str, Alert]:
    with scope(organization=data["org"]):
        return {alert.key: alert for alert in Alert.objects.filter(organization=data["org"], kind="budget")}


@pytest.fixture
def thresholds(alpha):
    forecast = BudgetThreshold.Basis.FORECAST
    return {
        "1101-80": _threshold(alpha, "CC-1101", "80"),  # 850.50 ≥ 800: fires
        "1101-100": _threshold(alpha, "CC-1101", "100"),  # 850.50 < 1000: OK
        "1101-100f": _threshold(alpha, "CC-1101", "100", forecast),  # 2636.55 ≥ 1000: fires
        "1201-110": _threshold(alpha, "CC-1201", "110"),  # 330.00 = 1.10 × 300: fires (reached)
        "1000-80": _threshold(alpha, "CC-1000", "80"),  # 1300.75 < 1600: OK
        "1100-50": _threshold(alpha, "CC-1100", "50"),  # rolled up: 970.75 ≥ 850: fires
        "1102-10-off": _threshold(alpha, "CC-1102", "10", is_active=False),  # would fire, but inactive
        "9000-50": _threshold(alpha, "CC-9000", "50"),  # no budget: never
    }


FIRING = ("1101-80", "1101-100f", "1201-110", "1100-50")


def test_thresholds_fire_once_when_reached(alpha, thresholds):
    result = _evaluate(alpha)
    expected = {threshold_key(thresholds[name].pk) for name in FIRING}
    assert set(result.fired) == expected
    assert result.checked == 7  # the inactive one is not looked at
    alerts = _alerts(alpha)
    assert set(alerts) == expected
    alert = alerts[threshold_key(thresholds["1101-80"].pk)]
    assert alert.period == OCT and alert.owner_id == alpha["owners"]["CC-1101"].pk
    assert alert.detail["actual"] == "850.50" and alert.detail["budget"] == "1000.00"
    assert alert.link.endswith("/budgets/?month=2026-10")


def test_re_evaluation_never_repeats_an_alert(alpha, thresholds, mailed):
    _evaluate(alpha, mailed=mailed)
    sent = len(mail.outbox)
    assert sent == len(FIRING)
    again = _evaluate(alpha, mailed=mailed)
    assert again.fired == [] and again.already == len(FIRING)
    assert len(mail.outbox) == sent
    # even with more spend, later in the month
    _spend(alpha["org"], alpha["tagsets"], "search", D(2026, 10, 15), "500.00")
    later = _evaluate(alpha, today=D(2026, 10, 16), mailed=mailed)
    # newly reached: CC-1101 1350.50 ≥ 100 % of 1000.00, and CC-1000 1800.75 ≥ 80 % of 2000.00
    assert set(later.fired) == {threshold_key(thresholds[name].pk) for name in ("1101-100", "1000-80")}
    assert len(mail.outbox) == sent + 2
    assert len(_alerts(alpha)) == len(FIRING) + 2


def test_the_next_month_starts_ok(alpha, thresholds):
    _evaluate(alpha)
    report = _report(alpha, month=D(2026, 11, 1), today=D(2026, 11, 2))
    states = {state.threshold.pk: state.state for row in report.rows for state in row.thresholds}
    assert set(states.values()) == {"OK"}
    october = _report(alpha)
    states = {state.threshold.pk: state.state for row in october.rows for state in row.thresholds}
    assert {pk for pk, state in states.items() if state == "ALARM"} == {thresholds[name].pk for name in FIRING}


def test_the_alert_mails_the_cost_centres_owners_and_the_finance_admins(world, alpha, thresholds, mailed):
    _evaluate(alpha, mailed=mailed)
    by_subject = {message.subject: message for message in mail.outbox}
    [cc1100] = [m for s, m in by_subject.items() if "CC-1100" in s]
    assert sorted(cc1100.to) == ["alpha-budget_owner@example.com", "alpha-finance_admin@example.com"]
    [cc1101] = [m for s, m in by_subject.items() if "CC-1101" in s and "80.00%" in s]
    # CC-1101 has no owner of its own: the owner of CC-1100 above it (who sees it) is told, and finance
    assert sorted(cc1101.to) == ["alpha-budget_owner@example.com", "alpha-finance_admin@example.com"]
    assert "Actual so far: 850.50 USD (85.05% of budget)" in cc1101.body
    assert "Forecast to month end: 2636.55 USD (263.66%)" in cc1101.body
    # nobody owns CC-1201 or anything above it: only finance
    [cc1201] = [m for s, m in by_subject.items() if "CC-1201" in s]
    assert cc1201.to == ["alpha-finance_admin@example.com"]
    assert all("beta" not in address for message in mail.outbox for address in message.to)


def test_a_forecast_threshold_waits_for_three_days_of_data(alpha):
    november = D(2026, 11, 1)
    with scope(organization=alpha["org"]):
        BudgetFactory(owner=alpha["owners"]["CC-1101"], period=november, amount=Decimal("100.00"))
    _spend(alpha["org"], alpha["tagsets"], "search", D(2026, 11, 2), "20.00")
    forecast = _threshold(alpha, "CC-1101", "100", BudgetThreshold.Basis.FORECAST)
    # day 2: 20.00 × 30 / 2 = 300.00 ≥ 100, but two days carried over a month say little
    assert _evaluate(alpha, month=november, today=D(2026, 11, 2)).fired == []
    _spend(alpha["org"], alpha["tagsets"], "search", D(2026, 11, 3), "1.00")
    assert _evaluate(alpha, month=november, today=D(2026, 11, 3)).fired == [threshold_key(forecast.pk)]


def test_evaluation_stays_in_its_organisation(alpha, beta, thresholds, mailed):
    _evaluate(alpha, mailed=mailed)
    assert _alerts(beta) == {}
    result = _evaluate(beta, mailed=mailed)
    [key] = result.fired  # 9999.00 ≥ 80 % of 10.00
    assert set(_alerts(beta)) == {key}
    assert mail.outbox[-1].to == ["beta-budget_owner@example.com", "beta-finance_admin@example.com"]
    assert mail.outbox[-1].subject.startswith("[Beta Ltd] CC-1101")
    assert len(_alerts(alpha)) == len(FIRING)


def test_the_task_evaluates_every_organisation_and_the_previous_open_month(
    alpha, beta, thresholds, monkeypatch, eager_celery
):
    from apps.showback import tasks

    monkeypatch.setattr(tasks, "_today", lambda: D(2026, 11, 2))
    summary = evaluate_budgets.delay().get()
    # November has no budgets; October (its period not closed) is evaluated as an ended month: its forecast is
    # its actual, so the 100 % forecast threshold of CC-1101 (850.50 of 1000.00) stays OK
    assert summary["alpha"] == {
        "2026-10": {"checked": 7, "fired": 3, "already": 0},
        "2026-11": {"checked": 7, "fired": 0, "already": 0},
    }
    assert summary["beta"]["2026-10"]["fired"] == 1
    again = evaluate_budgets.delay().get()
    assert again["alpha"]["2026-10"] == {"checked": 7, "fired": 0, "already": 3}
    assert len(_alerts(alpha)) == 3


def test_the_command_evaluates_one_organisation_now(alpha, thresholds, capsys):
    call_command("evaluate_budgets", "--org", "alpha", "--month", "2026-10", "--today", "2026-10-20")
    assert f"{len(FIRING)} fired" in capsys.readouterr().out
    assert len(_alerts(alpha)) == len(FIRING)


# --- the page --------------------------------------------------------------------------------------


def _url(world, **query) -> str:
    url = reverse("showback:budgets", kwargs={"org_slug": world.org("a").slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_page_shows_the_tree_with_variance_and_threshold_states(world, alpha, beta, thresholds):
    _evaluate(alpha)
    client = world.login("a", Role.FINANCE_ANALYST)
    response = client.get(_url(world, month="2026-10"))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.total.actual_nano == n("1310.75")
    body = response.content.decode()
    # the page runs on the real clock: October 2026 has ended, so its forecast is its actual and its run-rate
    # the actual over 31 days (CC-1101: 850.50 / 31 = 27.435… → 27.44)
    assert report.clock.ended
    for text in ("CC-1000", "CC-1201", "+30.00", "+10.00%", "−699.25", "1,300.75", "27.44", "Unallocated", "EUR"):
        assert text in body, text
    assert body.count("ALARM") >= len(FIRING)
    assert "9,999.00" not in body  # org b's spend


def test_a_budget_owner_sees_only_their_subtree_on_the_page(world, alpha, thresholds):
    response = world.login("a", Role.BUDGET_OWNER).get(_url(world, month="2026-10"))
    codes = [row.owner.code for row in response.context["page"]]
    assert codes == ["CC-1100", "CC-1101", "CC-1102"]
    body = response.content.decode()
    assert "CC-1201" not in body and "Unallocated" not in body


def test_a_bad_month_falls_back_to_the_current_one(world, alpha):
    response = world.login("a", Role.VIEWER).get(_url(world, month="2026-13"))
    assert response.status_code == 200
    assert "is not a period" in response.content.decode()


def test_the_page_has_an_empty_state(world):
    response = world.login("a", Role.FINANCE_ANALYST).get(_url(world))
    assert response.status_code == 200
    assert "No cost centres yet" in response.content.decode()


def test_the_page_reads_a_bounded_number_of_queries(world, alpha, thresholds, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.login("a", Role.FINANCE_ANALYST)
    client.get(_url(world, month="2026-10"))  # warm the session
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as before:
        client.get(_url(world, month="2026-10"))
    # 30 more cost centres, each with a budget and a threshold: not one query more
    with scope(organization=alpha["org"]):
        for i in range(30):
            owner = BudgetOwnerFactory(
                organization=alpha["org"], code=f"CC-7{i:03d}", parent=alpha["owners"]["CC-1000"]
            )
            BudgetFactory(owner=owner, period=OCT, amount=Decimal("10.00"))
            BudgetThreshold.objects.create(organization=alpha["org"], owner=owner, pct=Decimal("90"))
    with CaptureQueriesContext(connection) as after:
        client.get(_url(world, month="2026-10"))
    assert len(after) == len(before)


def test_the_cost_centre_page_links_to_the_budgets(world, alpha):
    response = world.login("a", Role.VIEWER).get(
        reverse("owners:detail", kwargs={"org_slug": "alpha", "pk": alpha["owners"]["CC-1101"].pk})
    )
    assert _url(world) in response.content.decode()


def test_the_beat_schedule_evaluates_budgets_hourly(settings):
    from config.celery import app

    entries = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "showback.evaluate_budgets"
    ]
    assert [entry["schedule"] for entry in entries] == [3600.0]
    assert "showback.evaluate_budgets" in app.tasks


def test_each_budget_alert_emits_budget_threshold_crossed_once_and_a_spike_emits_nothing(alpha, thresholds):
    _evaluate(alpha)
    _evaluate(alpha)  # evaluating again raises nothing, so emits nothing
    alerts = _alerts(alpha)
    emitted = events(alpha["org"])
    assert [e.type for e in emitted] == ["budget.threshold_crossed"] * len(FIRING)
    assert all((e.object_type, e.api_path) == ("alert", "") for e in emitted)
    by_alert = {e.object_id: e.data for e in emitted}
    expected = {  # worked out in the thresholds fixture: (pct, basis, spend, budget)
        "1101-80": ("CC-1101", "80.00", "actual", "850.50", "1000.00"),
        "1101-100f": ("CC-1101", "100.00", "forecast", "2636.55", "1000.00"),
        "1201-110": ("CC-1201", "110.00", "actual", "330.00", "300.00"),
        "1100-50": ("CC-1100", "50.00", "actual", "970.75", "1700.00"),
    }
    for name, (owner, pct, basis, spend, budget) in expected.items():
        alert = alerts[threshold_key(thresholds[name].pk)]
        assert by_alert[str(alert.pk)] == {
            "owner": owner,
            "period": "2026-10",
            "pct": pct,
            "basis": basis,
            "spend": spend,
            "budget": budget,
            "currency": "USD",
        }, name
    alert_raise(organization=alpha["org"], kind="spike", key="team:search", period=D(2026, 10, 10), title="Spike")
    assert len(events(alpha["org"])) == len(FIRING)
