"""showback.spend reads spend from the cube in the base currency; each figure here is a direct sum of the
cells planted."""

from datetime import date

import pytest
from django_scopes import scopes_disabled

from apps.fx.models import OrgFxRate
from apps.showback.spend import owner_month_spend, spend_rows
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagSetFactory, TagValueFactory
from tests.factories.tenancy import OrganizationFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

NANO = 1_000_000_000


@pytest.fixture
def org():
    organization = OrganizationFactory(base_currency="USD")
    with scopes_disabled():
        search = BudgetOwnerFactory(organization=organization, code="CC-1")
        team = TagDimensionFactory(organization=organization, key="team")
        TagValueFactory(dimension=team, value="search", owner=search)
        TagValueFactory(dimension=team, value="orphan")  # a team without a cost centre
        tagsets = {
            "search-a": TagSetFactory(organization=organization, tags={"team": "search", "feature": "a"}),
            "search-b": TagSetFactory(organization=organization, tags={"team": "search", "feature": "b"}),
            "orphan": TagSetFactory(organization=organization, tags={"team": "orphan", "feature": "a"}),
            "none": TagSetFactory(organization=organization, tags={"feature": "a"}),
        }
        cells = [
            ("search-a", date(2026, 10, 3), "gpt-4o", 3 * NANO, 10),
            ("search-a", date(2026, 10, 4), "gpt-4o", 2 * NANO, 5),
            ("search-b", date(2026, 10, 4), "claude", 7 * NANO, 4),
            ("orphan", date(2026, 10, 5), "gpt-4o", 1 * NANO, 1),
            ("none", date(2026, 11, 1), "gpt-4o", 5 * NANO, 2),
            ("search-a", date(2026, 11, 2), "gpt-4o", 11 * NANO, 3),
        ]
        for tagset, day, model, cost, requests in cells:
            DailyUsageFactory(
                organization=organization,
                tagset=tagsets[tagset],
                day=day,
                model=model,
                cost_input_nano=cost,
                requests=requests,
                records=requests,
            )
    organization.search_id = search.pk
    return organization


def test_month_totals_by_owner_from_the_rollup(org):
    result = spend_rows(
        organization=org, first=date(2026, 10, 1), last=date(2026, 11, 30), by=("owner",), grain="month"
    )
    got = {(row["owner"], row["period"]): (row["amount_nano"], row["requests"]) for row in result.rows}
    assert got == {
        (org.search_id, date(2026, 10, 1)): (12 * NANO, 19),
        (None, date(2026, 10, 1)): (1 * NANO, 1),  # the orphan team: unallocated
        (org.search_id, date(2026, 11, 1)): (11 * NANO, 3),
        (None, date(2026, 11, 1)): (5 * NANO, 2),  # no team tag at all
    }
    assert result.total_nano == 29 * NANO
    assert result.unconverted == {}


def test_days_and_breakdowns_partial_range(org):
    result = spend_rows(
        organization=org, first=date(2026, 10, 4), last=date(2026, 11, 1), by=("feature", "model"), grain="day"
    )
    got = {(row["feature"], row["model"], row["period"]): row["amount_nano"] for row in result.rows}
    assert got == {
        ("a", "gpt-4o", date(2026, 10, 4)): 2 * NANO,
        ("b", "claude", date(2026, 10, 4)): 7 * NANO,
        ("a", "gpt-4o", date(2026, 10, 5)): 1 * NANO,
        ("a", "gpt-4o", date(2026, 11, 1)): 5 * NANO,
    }


def test_filters_and_team_visibility(org):
    first, last = date(2026, 10, 1), date(2026, 11, 30)
    unallocated = spend_rows(organization=org, first=first, last=last, filters={"owner": ""})
    assert unallocated.total_nano == 6 * NANO
    mine = spend_rows(organization=org, first=first, last=last, filters={"owner": str(org.search_id)})
    assert mine.total_nano == 23 * NANO
    visible = spend_rows(organization=org, first=first, last=last, by=("team",), team_values={"orphan"})
    assert [(row["team"], row["amount_nano"]) for row in visible.rows] == [("orphan", 1 * NANO)]
    claude = spend_rows(organization=org, first=first, last=last, filters={"model": "claude"})
    assert claude.total_nano == 7 * NANO
    missing_team = spend_rows(organization=org, first=first, last=last, filters={"team": "(missing)"})
    assert missing_team.total_nano == 5 * NANO


def test_owner_month_spend(org):
    spend = owner_month_spend(organization=org, first_month=date(2026, 10, 1), last_month=date(2026, 11, 1))
    assert spend == {
        org.search_id: {date(2026, 10, 1): 12 * NANO, date(2026, 11, 1): 11 * NANO},
        None: {date(2026, 10, 1): 1 * NANO, date(2026, 11, 1): 5 * NANO},
    }


def test_other_currency_converted_by_day_and_gaps_reported_not_guessed():
    org = OrganizationFactory(base_currency="EUR", fx_policy="usage_day", fx_source="own")
    with scopes_disabled():
        tagset = TagSetFactory(organization=org, tags={"team": "search"})
        # 1 USD = 0.9 EUR on the 5th (own rate); nothing loaded for the 20th and the 4 days before it.
        OrgFxRate.objects.create(
            organization=org,
            day=date(2026, 10, 5),
            from_currency="USD",
            to_currency="EUR",
            rate_e10=9_000_000_000,
            source="treasury",
        )
        DailyUsageFactory(
            organization=org, tagset=tagset, day=date(2026, 10, 5), currency="USD", cost_input_nano=10 * NANO
        )
        DailyUsageFactory(
            organization=org, tagset=tagset, day=date(2026, 10, 20), currency="USD", cost_input_nano=4 * NANO
        )
        DailyUsageFactory(
            organization=org, tagset=tagset, day=date(2026, 10, 6), currency="EUR", cost_input_nano=2 * NANO
        )
    result = spend_rows(organization=org, first=date(2026, 10, 1), last=date(2026, 10, 31), by=("team",))
    assert [(row["team"], row["amount_nano"]) for row in result.rows] == [("search", 9 * NANO + 2 * NANO)]
    assert result.unconverted == {"USD": 4 * NANO}
    assert [(gap.currency, gap.first_missing) for gap in result.gaps] == [("USD", date(2026, 10, 20))]


def test_other_organisation_never_counted(org):
    other = OrganizationFactory()
    with scopes_disabled():
        DailyUsageFactory(organization=other, day=date(2026, 10, 3), cost_input_nano=100 * NANO)
    result = spend_rows(organization=org, first=date(2026, 10, 1), last=date(2026, 10, 31))
    assert result.total_nano == 13 * NANO
