"""Spend spikes: the band by hand, a spike fires once (team and model), normal days and cents do not,
the other organisation is untouched; the hourly task runs eagerly."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from apps.showback.models import Alert
from apps.showback.services_spikes import detect_spikes, spikes_find
from apps.showback.spikes import band, judge
from apps.showback.tasks import detect_spikes as detect_spikes_task
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory

from .cube import G, plant

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 10, 29)


def test_band_by_hand():
    # 2, 3, 2, 3, …: median 2.5, |x − 2.5| = 0.5 everywhere → MAD 0.5; band = 2.5 + 5 × 1.4826 × 0.5 = 6.2065
    trailing = [2 * G, 3 * G] * 14
    assert band(trailing) == (2_500_000_000, 6_206_500_000)
    # 8.00 is 1.79 above the band (≥ the 1.00 floor): a spike; 7.00 is only 0.79 above it: not
    assert judge(dimension="team", value="x", day=DAY, amount=8 * G, trailing=trailing).band_nano == 6_206_500_000
    assert judge(dimension="team", value="x", day=DAY, amount=7 * G, trailing=trailing) is None
    # cents: a flat 0.02 a day and a day of 0.90 is far above the band but under the floor
    assert judge(dimension="team", value="x", day=DAY, amount=900_000_000, trailing=[20_000_000] * 28) is None
    # fewer than 7 active days in the window: no band yet
    assert judge(dimension="team", value="x", day=DAY, amount=100 * G, trailing=[0] * 22 + [G] * 6) is None


def plant_month(organization, *, spike_amount: int):
    """28 days before DAY: search (gpt-4o) alternates 2.00 / 3.00, ads (claude) a steady 10.00; on DAY
    search spends ``spike_amount`` and ads 10.00."""
    cells = {}
    for offset in range(1, 29):
        day = DAY - datetime.timedelta(days=offset)
        cells[(day, "search", "gpt-4o")] = (2 if offset % 2 else 3) * G
        cells[(day, "ads", "claude-sonnet")] = 10 * G
    cells[(DAY, "search", "gpt-4o")] = spike_amount
    cells[(DAY, "ads", "claude-sonnet")] = 10 * G
    plant(organization, cells)


def owner_of_search(world, organization):
    with scope(organization=organization):
        team = TagDimensionFactory(organization=organization, key="team")
        owner = BudgetOwnerFactory(organization=organization, code="CC-S")
        owner.owner_users.add(world.user("a", "budget_owner"))
        TagValueFactory(dimension=team, value="search", owner=owner)
    return owner


def test_a_spike_fires_once_for_the_team_and_the_model(world, django_capture_on_commit_callbacks):
    organization = world.org("a")
    owner = owner_of_search(world, organization)
    plant_month(organization, spike_amount=40 * G)
    plant_month(world.org("b"), spike_amount=2 * G)
    with scope(organization=organization), django_capture_on_commit_callbacks(execute=True):
        raised = detect_spikes(organization=organization, day=DAY)
        again = detect_spikes(organization=organization, day=DAY)
        alerts = {a.key: a for a in Alert.objects.filter(organization=organization)}
    assert sorted(a.key for a in raised) == ["model:gpt-4o", "team:search"] and again == []
    team = alerts["team:search"]
    assert (team.kind, team.period, team.owner_id) == ("spike", DAY, owner.pk)
    assert team.detail["amount_nano"] == 40 * G and team.detail["median_nano"] == 2_500_000_000
    assert team.detail["band_nano"] == 6_206_500_000
    assert team.link == "/o/alpha/usage/requests/?date_from=2026-10-29&date_to=2026-10-29&tag_team=search"
    assert alerts["model:gpt-4o"].link.endswith("&model=gpt-4o") and alerts["model:gpt-4o"].owner_id is None
    assert "40.00" in team.title
    # the team's alert went to the cost centre's owner, the model's to the finance admin
    assert {tuple(m.to) for m in mail.outbox} == {
        (world.user("a", "budget_owner").email,),
        (world.user("a", "finance_admin").email,),
    }
    with scope(organization=world.org("b")):
        assert not Alert.objects.filter(organization=world.org("b")).exists()


def test_a_normal_day_raises_nothing(world):
    organization = world.org("a")
    plant_month(organization, spike_amount=3 * G)
    with scope(organization=organization):
        assert spikes_find(organization=organization, day=DAY) == []
        assert detect_spikes(organization=organization, day=DAY) == []
    # the day before is normal too (its own trailing window is shorter: 27 days of data)
    with scope(organization=organization):
        assert spikes_find(organization=organization, day=DAY - datetime.timedelta(days=1)) == []


def test_hourly_task_checks_yesterday_and_today(world, eager_celery):
    organization = world.org("a")
    today = timezone.now().date()
    cells = {}
    for offset in range(1, 30):
        cells[(today - datetime.timedelta(days=offset), "search", "gpt-4o")] = (2 if offset % 2 else 3) * G
    cells[(today - datetime.timedelta(days=1), "search", "gpt-4o")] = 50 * G
    plant(organization, cells)
    assert detect_spikes_task.delay().get() == {"alpha": 2, "beta": 0}
    assert detect_spikes_task.delay().get() == {"alpha": 0, "beta": 0}
    with scope(organization=organization):
        assert set(Alert.objects.values_list("key", "period")) == {
            ("team:search", today - datetime.timedelta(days=1)),
            ("model:gpt-4o", today - datetime.timedelta(days=1)),
        }
