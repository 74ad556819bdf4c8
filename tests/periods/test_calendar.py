"""The fiscal calendar of an organisation: a start day of 5 changing what allocation and reconciliation read."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.allocation.runs import period_cells
from apps.audit.models import AuditEvent
from apps.reconciliation.services import reconciliation_run_create
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory
from tests.factories.reconciliation import DailyUsageFactory

from .conftest import OCT, G, walk

pytestmark = pytest.mark.django_db


def _cube(organization):
    """$1 on 3 Oct, $10 on 5 Oct, $100 on 4 Nov, $1000 on 5 Nov."""
    with scope(organization=organization):
        for day, dollars in ((3, 1), (5, 10), (35, 100), (36, 1000)):  # days after 30 Sep
            DailyUsageFactory(
                organization=organization, day=date(2026, 9, 30) + timedelta(days=day), cost_input_nano=dollars * G
            )


def test_a_start_day_of_5_changes_what_allocation_reads():
    organization = OrganizationFactory(slug="fiscal")
    _cube(organization)
    assert sum(cell.amount_nano for cell in period_cells(organization=organization, period=OCT)) == 11 * G
    organization.period_start_day = 5
    organization.save()
    assert sum(cell.amount_nano for cell in period_cells(organization=organization, period=OCT)) == 110 * G
    assert sum(cell.amount_nano for cell in period_cells(organization=organization, period=date(2026, 9, 1))) == G


def test_a_start_day_of_5_changes_the_reconciliation_usage_window():
    organization = OrganizationFactory(slug="fiscal")
    _cube(organization)
    organization.period_start_day = 5
    organization.save()
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    assert run.estimated_nano == 110 * G
    assert run.inputs["usage_cells"] == 2


def _settings(world, **changes):
    data = {"name": "Alpha Corp", "base_currency": "USD", "variance_tolerance_pct": "5", "period_start_day": "1"}
    return world.login("a", Role.ORG_ADMIN).post(
        reverse("accounts:settings", kwargs={"org_slug": "alpha"}), {**data, **changes}
    )


def test_the_start_day_is_an_audited_setting(world):
    response = _settings(world, period_start_day="5", reason="fiscal months start on the 5th")
    assert response.status_code == 302
    world.org("a").refresh_from_db()
    assert world.org("a").period_start_day == 5
    with scope(organization=world.org("a")):
        event = AuditEvent.objects.get(action="organization.updated")
    assert (event.before["period_start_day"], event.after["period_start_day"]) == (1, 5)
    assert event.reason == "fiscal months start on the 5th"


@pytest.mark.parametrize("value", ["0", "29"])
def test_the_start_day_is_1_to_28(world, value):
    response = _settings(world, period_start_day=value)
    assert response.status_code == 200
    assert "period_start_day" in response.context["form"].errors


def test_the_start_day_cannot_move_once_a_period_has_left_open(world):
    walk(world, "start_reconciliation")
    response = _settings(world, period_start_day="5")
    assert response.status_code == 200
    assert response.context["form"].errors["period_start_day"] == [
        "The period start day cannot change once a period has left open (2026-10 is reconciling): its days "
        "would move to another period."
    ]
    world.org("a").refresh_from_db()
    assert world.org("a").period_start_day == 1
