"""The trends tab: charged per feature from final statements, request growth per team from the cube, and
readiness per month, each against a direct sum of what it summarises."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.reconciliation.services import reconciliation_run_create
from apps.statements.models import Statement, StatementLine
from apps.tenancy.roles import Role
from tests import scenarios
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

OCT = scenarios.OCT
SEP, NOV = datetime.date(2026, 9, 1), datetime.date(2026, 11, 1)


def trends(client, slug="alpha"):
    response = client.get(reverse("showback:trends", kwargs={"org_slug": slug}))
    assert response.status_code == 200
    return response


@pytest.fixture
def closed_october(world):
    """October (``scenarios.SHARED``) issued and closed: final statements; the budget owner owns CC-1101."""
    return scenarios.closed(scenarios.issued(world.org("a"), owner_user=world.user("a", Role.BUDGET_OWNER)))


def charged(organization, owner_codes=None) -> dict[str, int]:
    with scope(organization=organization):
        lines = StatementLine.objects.filter(
            statement__status=Statement.Status.FINAL, statement__superseded_by__isnull=True, statement__period=OCT
        )
        if owner_codes is not None:
            lines = lines.filter(statement__owner_code__in=owner_codes)
        sums: dict[str, int] = {}
        for line in lines:
            key = line.feature or "(missing)"
            sums[key] = sums.get(key, 0) + line.amount_nano
    return sums


def october_column(figures):
    chart = figures.feature_chart
    index = figures.months.index(OCT)
    keys = [series.key for series in chart.series]
    return {key: value for key, value in zip(keys, chart.columns[index].cells, strict=True) if value}


def test_charged_per_feature_equals_the_final_statements_lines(world, closed_october, django_assert_max_num_queries):
    client = world.login("a", "finance_analyst")
    with django_assert_max_num_queries(18):
        response = trends(client)
    figures = response.context["figures"]
    expected = charged(world.org("a"))
    assert october_column(figures) == expected
    with scope(organization=world.org("a")):
        statements = list(Statement.objects.filter(period=OCT))
    assert sum(expected.values()) == sum(statement.total_nano for statement in statements) > 0
    # A budget owner: only their cost centre's statements.
    owner = trends(world.login("a", "budget_owner")).context["figures"]
    assert october_column(owner) == charged(world.org("a"), owner_codes=["CC-1101"])
    assert owner.readiness is None  # organisation-wide readiness is finance's


def test_request_growth_per_team_month_over_month(world):
    organization = world.org("a")
    with scope(organization=organization):
        search = TagSetFactory(organization=organization, tags={"team": "search"})
        ads = TagSetFactory(organization=organization, tags={"team": "ads"})
        for day, tagset, requests in (
            (datetime.date(2026, 9, 3), search, 200),
            (datetime.date(2026, 10, 3), search, 150),
            (datetime.date(2026, 10, 9), search, 100),
            (datetime.date(2026, 11, 2), search, 500),
            (datetime.date(2026, 10, 4), ads, 40),
        ):
            DailyUsageFactory(organization=organization, day=day, tagset=tagset, requests=requests, records=requests)
    figures = trends(world.login("a", "finance_analyst")).context["figures"]
    assert figures.months[-1] == NOV and len(figures.months) == 13
    rows = {row.key: row for row in figures.volume_growth}
    at = {month: index for index, month in enumerate(figures.months)}
    search_row = rows["search"]
    assert [search_row.requests[at[m]] for m in (SEP, OCT, NOV)] == [200, 250, 500]
    # By hand: 250 / 200 − 1 = +25.0 %; 500 / 250 − 1 = +100.0 %; September from nothing: no figure.
    assert [search_row.growth[at[m]] for m in (SEP, OCT, NOV)] == [None, Decimal("25.0"), Decimal("100.0")]
    ads_row = rows["ads"]
    assert [ads_row.requests[at[m]] for m in (OCT, NOV)] == [40, 0]
    assert ads_row.growth[at[NOV]] == Decimal("-100.0")
    assert [figures.volume_totals.requests[at[m]] for m in (SEP, OCT, NOV)] == [200, 290, 500]


def test_readiness_per_month_says_when_a_month_has_no_run(world):
    organization = world.org("a")
    scenarios.reconciled(organization)  # October reconciled
    html = trends(world.login("a", "finance_analyst")).content.decode()
    assert "Chargeback readiness per month" in html
    assert html.count("Not reconciled: no run for this month.") == 12  # the other 12 of the 13 months
    with scope(organization=organization):
        run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    figures = trends(world.login("a", "finance_analyst")).context["figures"]
    (october,) = [month for month in figures.readiness if month.month == OCT]
    assert october.run == run


def test_another_organisations_statements_never_show(world, closed_october):
    figures = trends(world.login("b", "finance_analyst"), slug="beta").context["figures"]
    assert figures.feature_chart.empty and not figures.volume_growth
