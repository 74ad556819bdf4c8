"""The forecasts and alerts pages: what each role sees, acknowledging, query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.core.calendar import month_before
from apps.showback.forecast import months_back
from apps.showback.models import Alert
from apps.showback.services import alert_raise
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory

from .cube import G, plant

pytestmark = pytest.mark.django_db


def setup_spend(world):
    """Search (CC-S, owned by the budget-owner member) flat 12.00 a month for 7 months and 5.00 so far this
    month; ads (CC-D) 3.00 last month only."""
    organization = world.org("a")
    with scope(organization=organization):
        team = TagDimensionFactory(organization=organization, key="team")
        search = BudgetOwnerFactory(organization=organization, code="CC-S", name="Search")
        ads = BudgetOwnerFactory(organization=organization, code="CC-D", name="Ads")
        search.owner_users.add(world.user("a", "budget_owner"))
        TagValueFactory(dimension=team, value="search", owner=search)
        TagValueFactory(dimension=team, value="ads", owner=ads)
    this_month = timezone.now().date().replace(day=1)
    cells = {(m, "search", "gpt-4o"): 12 * G for m in months_back(month_before(this_month), 7)}
    cells[(month_before(this_month), "ads", "gpt-4o")] = 3 * G
    cells[(this_month, "search", "gpt-4o")] = 5 * G
    plant(organization, cells)
    return search, ads


def test_finance_sees_every_cost_centre_and_the_organisation(world, django_assert_max_num_queries):
    setup_spend(world)
    client = world.login("a", "finance_admin")
    url = reverse("showback:forecasts", kwargs={"org_slug": "alpha"})
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    rows = response.context["rows"]
    labels = [(item["row"].owner.code if item["row"].owner else None) for item in rows]
    assert labels == [None, "CC-D", "CC-S"]
    search = next(item for item in rows if item["row"].owner and item["row"].owner.code == "CC-S")
    assert search["row"].forecast.amount_nano == 12 * G and search["to_date"] == 5 * G
    ads = next(item for item in rows if item["row"].owner and item["row"].owner.code == "CC-D")
    assert (ads["row"].forecast.amount_nano, ads["row"].forecast.lower_nano) == (3 * G, int(0.75 * 3 * G))
    assert rows[0]["to_date"] == 5 * G
    assert b"No closed period yet" in response.content


def test_budget_owner_sees_their_subtree_only(world):
    setup_spend(world)
    response = world.login("a", "budget_owner").get(reverse("showback:forecasts", kwargs={"org_slug": "alpha"}))
    assert [item["row"].owner.code for item in response.context["rows"]] == ["CC-S"]
    assert b"CC-D" not in response.content


def test_empty_state(world):
    response = world.login("a", "viewer").get(reverse("showback:forecasts", kwargs={"org_slug": "alpha"}))
    assert response.status_code == 200 and b"No spend history" in response.content


def raise_alerts(world):
    search, ads = setup_spend(world)
    organization = world.org("a")
    with scope(organization=organization):
        mine, _ = alert_raise(
            organization=organization,
            kind="spike",
            key="team:search",
            period=datetime.date(2026, 10, 5),
            owner=search,
            title="Spend spike: team search",
            link="/o/alpha/usage/requests/?tag_team=search",
        )
        theirs, _ = alert_raise(
            organization=organization,
            kind="spike",
            key="team:ads",
            period=datetime.date(2026, 10, 5),
            owner=ads,
            title="Spend spike: team ads",
        )
    return mine, theirs


def test_alerts_page_lists_and_finance_acknowledges(world, django_assert_max_num_queries):
    mine, theirs = raise_alerts(world)
    client = world.login("a", "finance_admin")
    url = reverse("showback:alerts", kwargs={"org_slug": "alpha"})
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert [a.pk for a in response.context["page"]] == [theirs.pk, mine.pk]
    assert b"Acknowledge" in response.content and b"/o/alpha/usage/requests/?tag_team=search" in response.content
    ack = reverse("showback:alert_ack", kwargs={"org_slug": "alpha", "pk": mine.pk})
    assert client.post(ack).status_code == 302
    with scope(organization=world.org("a")):
        mine.refresh_from_db()
    assert mine.acknowledged_by == world.user("a", "finance_admin") and mine.acknowledged_at is not None
    open_only = client.get(url, {"state": "open"})
    assert [a.pk for a in open_only.context["page"]] == [theirs.pk]


def test_budget_owner_sees_their_alerts_and_cannot_acknowledge(world):
    mine, _theirs = raise_alerts(world)
    client = world.login("a", "budget_owner")
    response = client.get(reverse("showback:alerts", kwargs={"org_slug": "alpha"}))
    assert [a.pk for a in response.context["page"]] == [mine.pk]
    assert b"Acknowledge" not in response.content
    assert client.post(reverse("showback:alert_ack", kwargs={"org_slug": "alpha", "pk": mine.pk})).status_code == 403
    with scope(organization=world.org("a")):
        assert Alert.objects.get(pk=mine.pk).acknowledged_at is None


def test_alerts_empty_state(world):
    response = world.login("a", "viewer").get(reverse("showback:alerts", kwargs={"org_slug": "alpha"}))
    assert response.status_code == 200 and b"No alerts" in response.content
