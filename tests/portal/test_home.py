"""The home page's three questions, with real figures: what did we spend (this month to date, last month, the
same month last year), compared with what (the month's budget, a forecast, last month), what needs me (the
inbox); finance sees the organisation and its top movers, a budget owner their cost centres' subtree.

Every figure is checked twice: against the amounts added up by hand from the rows planted below, and against a
direct sum over the cube rows it summarises. The other organisation has rows on the same days, a hundred times
larger, and never shows."""

import datetime
from datetime import UTC
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django_scopes import scope

from apps.owners.models import BudgetOwner
from apps.portal import views
from apps.portal.selectors import home_spend
from apps.taxonomy.models import TagSet
from apps.usage.models import DailyUsage
from tests.factories.invoices import InvoiceIngestJobFactory
from tests.factories.owners import BudgetFactory
from tests.factories.taxonomy import TagDimensionFactory, TagSetFactory, TagValueFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)
NOW = datetime.datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
G = 1_000_000_000  # one currency unit in nano-units
GPT = ("openai", "gpt-4o")
CLAUDE = ("anthropic", "claude-sonnet-4-5")

# (day, team or None, (provider, model), nano, requests): org "a"; org "b" gets the same rows x 100.
ROWS = [
    (datetime.date(2026, 12, 1), "search", GPT, 3 * G, 3),
    (datetime.date(2026, 12, 2), None, GPT, G // 2, 1),
    (datetime.date(2026, 12, 3), "search-labs", GPT, 1_250_000_000, 1),
    (datetime.date(2026, 12, 7), "ads", CLAUDE, 2 * G, 2),
    (datetime.date(2026, 12, 8), "search", GPT, 50 * G, 50),  # after today: not in the month to date
    (datetime.date(2026, 11, 3), "search", GPT, 1 * G, 1),
    (datetime.date(2026, 11, 7), "ads", CLAUDE, 4 * G, 4),  # the last day of "November to the same day"
    (datetime.date(2026, 11, 8), "search", GPT, 10 * G, 10),
    (datetime.date(2026, 11, 30), "ads", CLAUDE, G // 4, 1),
    (datetime.date(2025, 12, 15), "search", GPT, 7 * G, 7),
    (datetime.date(2025, 11, 30), "search", GPT, 100 * G, 100),
]


def _plant(world, key: str, scale: int = 1) -> dict:
    """Cost centres Search (CC-1, owned by the budget-owner member) with its child Labs (CC-3), and Ads (CC-2);
    team values mapped to them; the cube rows; December's budgets (20.00 and 5.00 USD, Labs 8.00 EUR)."""
    organization = world.org(key)
    with scope(organization=organization):
        search = BudgetOwner.objects.create(organization=organization, code="CC-1", name="Search")
        ads = BudgetOwner.objects.create(organization=organization, code="CC-2", name="Ads")
        labs = BudgetOwner.objects.create(organization=organization, code="CC-3", name="Labs", parent=search)
        search.owner_users.add(world.user(key, "budget_owner"))
        team = TagDimensionFactory(organization=organization, key="team", label="Team")
        for value, owner in (("search", search), ("ads", ads), ("search-labs", labs)):
            TagValueFactory(dimension=team, organization=organization, value=value, owner=owner)
        tagsets = {}
        for day, team_value, (provider, model), nano, requests in ROWS:
            tags = {"team": team_value} if team_value else {}
            if team_value not in tagsets:
                tagsets[team_value] = TagSetFactory(organization=organization, tags=tags)
            DailyUsageFactory(
                organization=organization,
                day=day,
                provider=provider,
                model=model,
                tagset=tagsets[team_value],
                cost_input_nano=nano * scale,
                requests=requests,
                records=requests,
            )
        december = datetime.date(2026, 12, 1)
        BudgetFactory(owner=search, period=december, amount=Decimal("20.00"), currency="USD")
        BudgetFactory(owner=ads, period=december, amount=Decimal("5.00"), currency="USD")
        BudgetFactory(owner=labs, period=december, amount=Decimal("8.00"), currency="EUR")
        BudgetFactory(owner=search, period=datetime.date(2026, 11, 1), amount=Decimal("999.00"), currency="USD")
    return {"search": search, "ads": ads, "labs": labs}


@pytest.fixture
def planted(world):
    _plant(world, "b", scale=100)
    return _plant(world, "a")


def _cube_sum(organization, first, last, teams=None) -> int:
    """The direct sum over the cube rows of a range (of some teams), what each figure must equal."""
    with scope(organization=organization):
        rows = DailyUsage.objects.filter(organization=organization, day__gte=first, day__lte=last)
        if teams is not None:
            tagsets = [t.pk for t in TagSet.objects.filter(organization=organization) if t.tags.get("team") in teams]
            rows = rows.filter(tagset_id__in=tagsets)
        return rows.aggregate(total=Sum("estimated_nano"))["total"] or 0


def _spend(world, role: str, key: str = "a"):
    return home_spend(membership=world.memberships[(key, role)], today=TODAY)


# --- what did we spend -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance_admin", "finance_analyst", "viewer", "org_admin"])
def test_the_organisation_spend_this_month_last_month_and_a_year_ago(world, planted, role):
    spend = _spend(world, role)
    organization = world.org("a")
    assert spend.scope == "the organisation" and spend.currency == "USD" and spend.has_usage
    mtd, before = spend.month_to_date, spend.last_month_to_date
    assert (mtd.first, mtd.last) == (datetime.date(2026, 12, 1), TODAY)
    assert mtd.amount_nano == 3 * G + G // 2 + 1_250_000_000 + 2 * G == 6_750_000_000
    assert mtd.amount_nano == _cube_sum(organization, mtd.first, mtd.last)
    assert mtd.requests == 3 + 1 + 1 + 2
    assert (before.first, before.last) == (datetime.date(2026, 11, 1), datetime.date(2026, 11, 7))
    assert before.amount_nano == 1 * G + 4 * G == _cube_sum(organization, before.first, before.last)
    assert spend.last_month.amount_nano == 15_250_000_000
    assert spend.last_month.amount_nano == _cube_sum(
        organization, datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)
    )
    assert spend.last_year.label == "December 2025"
    assert spend.last_year.amount_nano == 7 * G
    assert spend.last_year.amount_nano == _cube_sum(
        organization, datetime.date(2025, 12, 1), datetime.date(2025, 12, 31)
    )
    assert spend.change_pct == Decimal("35.0")  # 6.75 against 5.00
    assert mtd.link == "/o/alpha/usage/?date_from=2026-12-01&date_to=2026-12-07"


def test_a_budget_owner_sees_the_spend_of_their_subtree_only(world, planted):
    spend = _spend(world, "budget_owner")
    organization = world.org("a")
    teams = {"search", "search-labs"}  # CC-1 and its child CC-3; not ads, not untagged
    assert spend.scope == "your cost centres"
    assert spend.month_to_date.amount_nano == 3 * G + 1_250_000_000
    assert spend.month_to_date.amount_nano == _cube_sum(organization, datetime.date(2026, 12, 1), TODAY, teams)
    assert spend.last_month_to_date.amount_nano == 1 * G
    assert spend.last_month.amount_nano == 11 * G
    assert spend.last_year.amount_nano == 7 * G
    assert spend.change_pct == Decimal("325.0")
    # budget: CC-1's 20.00 USD; CC-3's is in EUR (named, not converted); CC-2 is not theirs
    budget = spend.comparisons[0]
    assert budget.amount_nano == 20 * G and spend.budgets_elsewhere == [(Decimal("8.00"), "EUR")]
    assert budget.used_pct == Decimal("21.2")  # 4.25 of 20.00 = 21.25, rounded half to even as everywhere
    assert [m.label for m in spend.movers["team"]] == ["search", "search-labs"]


def test_compared_with_the_budget_a_forecast_and_last_month(world, planted):
    [budget, forecast, last_month] = _spend(world, "finance_admin").comparisons
    assert budget.label == "Budget for December" and budget.amount_nano == 25 * G  # 20.00 + 5.00 USD
    assert budget.used_pct == Decimal("27.0") and not budget.over  # 6.75 of 25.00
    assert forecast.amount_nano is None and forecast.note == "No forecast for this month yet."
    assert last_month.label == "November (whole month)" and last_month.amount_nano == 15_250_000_000
    assert last_month.used_pct == Decimal("44.3")  # 6.75 of 15.25


def test_top_movers_against_last_month_to_the_same_day(world, planted):
    movers = _spend(world, "finance_admin").movers
    teams = [(m.label, m.now_nano, m.before_nano, m.change_nano, m.change_pct) for m in movers["team"]]
    assert teams == [
        ("ads", 2 * G, 4 * G, -2 * G, Decimal("-50.0")),
        ("search", 3 * G, 1 * G, 2 * G, Decimal("200.0")),
        ("search-labs", 1_250_000_000, 0, 1_250_000_000, None),
        ("(no team)", G // 2, 0, G // 2, None),
    ]
    models = [(m.label, m.change_nano) for m in movers["model"]]
    assert models == [("openai gpt-4o", 3_750_000_000), ("anthropic claude-sonnet-4-5", -2 * G)]
    assert movers["team"][3].link == (
        "/o/alpha/usage/?date_from=2026-12-01&date_to=2026-12-07&group_by=model&tag_team=%28missing%29"
    )
    assert movers["model"][0].link == (
        "/o/alpha/usage/?date_from=2026-12-01&date_to=2026-12-07&group_by=team&provider=openai&model=gpt-4o"
    )


def test_amounts_without_an_exchange_rate_are_named_and_left_out(world, planted):
    organization = world.org("a")
    with scope(organization=organization):
        DailyUsageFactory(
            organization=organization,
            day=datetime.date(2026, 12, 4),
            currency="EUR",
            tagset=TagSetFactory(organization=organization, tags={"team": "ads", "feature": "eur"}),
            cost_input_nano=2 * G,
        )
    spend = _spend(world, "finance_admin")
    assert spend.month_to_date.unconverted == {"EUR": 2 * G}
    assert spend.month_to_date.amount_nano == 6_750_000_000


def test_a_new_organisation_without_usage_gets_an_empty_state(world):
    spend = _spend(world, "finance_admin")
    assert not spend.has_usage and spend.month_to_date is None and spend.comparisons == []
    page = world.login("a", "finance_admin").get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    body = page.content.decode()
    assert "No usage has been received yet" in body and 'href="/o/alpha/usage/imports/"' in body
    assert "Nothing is waiting for you." in body
    viewer = world.login("a", "viewer").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content.decode()
    assert "once finance has imported the first usage" in viewer
    assert "Nothing is waiting for you." in viewer
    owner = world.login("a", "budget_owner").get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    assert "Nothing is waiting for you." in owner.content.decode()


# --- the page --------------------------------------------------------------------------------------------


@pytest.fixture
def on_the_day(monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: NOW)


def _home(world, role: str, key: str = "a"):
    return world.login(key, role).get(reverse("portal:home", kwargs={"org_slug": world.org(key).slug}))


def test_the_finance_home_answers_the_three_questions(world, planted, on_the_day):
    with scope(organization=world.org("a")):
        job = InvoiceIngestJobFactory(
            organization=world.org("a"), status="failed", file_name="bill.csv", sha256="c" * 64
        )
    response = _home(world, "finance_analyst")
    body = response.content.decode()
    assert response.status_code == 200
    spend = body[body.index('id="spend"') : body.index('id="compared"')]
    for text in ("December to date", "6.75", "November 2026", "15.25", "December 2025", "7.00", "+35.00%"):
        assert text in spend, text
    compared = body[body.index('id="compared"') : body.index('id="inbox"')]
    for text in ("Budget for December", "25.00", "27.0%", "No forecast for this month yet.", "44.3%", "8.00 EUR"):
        assert text in compared, text
    inbox = body[body.index('id="inbox"') : body.index('id="movers"')]
    assert f'href="/o/alpha/invoices/imports/{job.pk}/"' in inbox and "bill.csv" in inbox
    movers = body[body.index('id="movers"') :]
    assert movers.index(">ads<") < movers.index(">search<") < movers.index(">(no team)<")
    assert "−2.00" in movers or "-2.00" in movers
    # the organisation's members are on their own page now, not on the home
    assert "Members and roles" not in body
    # nothing of the other organisation (its amounts are a hundred times larger)
    assert "675.00" not in body and "1,525.00" not in body and "/o/beta/" not in body


def test_the_budget_owner_home_shows_their_subtree_and_their_statement_panel(world, planted, on_the_day):
    body = _home(world, "budget_owner").content.decode()
    assert "Spend of your cost centres" in body
    spend = body[body.index('id="spend"') : body.index('id="compared"')]
    assert "4.25" in spend and "11.00" in spend and "+325.00%" in spend
    assert "6.75" not in body  # the organisation's total is not theirs
    assert 'id="my-statements"' in body  # the statement panel stays
    assert "Your open disputes (waiting for finance)" not in body  # nothing open: the section shows no heading
    assert "Nothing is waiting for you." in body


@pytest.mark.parametrize(("role", "cap"), [("finance_admin", 50), ("budget_owner", 46), ("viewer", 26)])
# Measured 49, 44 and 24 on SQLite and PostgreSQL (after the session's first request): four spend reads of four
# queries, the inbox's sections, the statement and readiness panels, the session.
def test_the_home_reads_a_bounded_number_of_queries(
    world, planted, on_the_day, role, cap, django_assert_max_num_queries
):
    client = world.login("a", role)
    url = reverse("portal:home", kwargs={"org_slug": "alpha"})
    client.get(url)  # the session's first request does more (the second factor's bookkeeping)
    with django_assert_max_num_queries(cap):
        assert client.get(url).status_code == 200
    # more teams, models and days do not add queries
    organization = world.org("a")
    with scope(organization=organization):
        for n in range(30):
            DailyUsageFactory(
                organization=organization,
                day=datetime.date(2026, 12, 1 + n % 7),
                model=f"model-{n}",
                tagset=TagSetFactory(organization=organization, tags={"team": f"team-{n}"}),
                cost_input_nano=G,
                rollups=n == 29,
            )
    with django_assert_max_num_queries(cap):
        assert client.get(url).status_code == 200


def _snapshot(organization, owner, amount_nano: int, currency: str = "USD"):
    from apps.showback.models import ForecastSnapshot

    return ForecastSnapshot.objects.create(
        organization=organization,
        owner=owner,
        period=datetime.date(2026, 12, 1),
        amount_nano=amount_nano,
        lower_nano=amount_nano // 2,
        upper_nano=amount_nano * 2,
        currency=currency,
        method="ets_damped",
        history_months=12,
        history_through=datetime.date(2026, 11, 1),
    )


def test_the_forecast_comes_from_the_month_snapshot(world, planted):
    """Finance compares with the organisation's snapshot; a budget owner with the sum of their visible cost
    centres' (Search and Labs, not Ads); another organisation's snapshot never counts."""
    organization, other = world.org("a"), world.org("b")
    with scope(organization=other):
        _snapshot(other, None, 900 * G)
    with scope(organization=organization):
        _snapshot(organization, None, 30 * G)
        _snapshot(organization, planted["search"], 12 * G)
        _snapshot(organization, planted["labs"], 3 * G)
        _snapshot(organization, planted["ads"], 15 * G)
    [_, finance_forecast, _] = _spend(world, "finance_admin").comparisons
    assert finance_forecast.amount_nano == 30 * G
    assert finance_forecast.used_pct == Decimal("22.5")  # 6.75 of 30.00
    [_, owner_forecast, _] = _spend(world, "budget_owner").comparisons
    assert owner_forecast.amount_nano == 15 * G  # 12.00 + 3.00
