"""Budget thresholds on a cost centre: the audited writes and the finance pages that make them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners.models import BudgetThreshold
from apps.owners.services import budget_threshold_create, budget_threshold_set_active, budget_threshold_update
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db

ACTUAL, FORECAST = BudgetThreshold.Basis.ACTUAL, BudgetThreshold.Basis.FORECAST


def _url(name, world, **kwargs):
    return reverse(f"owners:{name}", kwargs={"org_slug": world.org("a").slug, **kwargs})


def _events(organization, prefix):
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq"))


def test_create_stores_the_threshold_and_audits_it(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        threshold = budget_threshold_create(
            organization=organization, actor=world.user("a"), owner=tree["CC-1100"], pct="80", basis=FORECAST
        )
        assert (threshold.pct, threshold.basis, threshold.is_active) == (Decimal("80.00"), FORECAST, True)
    [event] = _events(organization, "budget_threshold.")
    assert event.action == "budget_threshold.created"
    assert event.after == {"owner": "CC-1100", "pct": "80.00", "basis": "forecast", "is_active": True}


@pytest.mark.parametrize(
    ("pct", "message"),
    [
        ("0", "above 0"),
        ("-5", "above 0"),
        ("80.125", "2 decimal places"),
        ("1000.01", "goes up to 1000.00%"),
        ("abc", "is not a percentage"),
    ],
)
def test_create_refuses_percentages_outside_the_range(world, tree, pct, message):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_threshold_create(organization=organization, actor=None, owner=tree["CC-1100"], pct=pct)
    assert message in excinfo.value.message_dict["pct"][0]


def test_the_same_percentage_and_basis_is_refused_but_the_other_basis_is_not(world, tree):
    organization = world.org("a")
    owner = tree["CC-1100"]
    with scope(organization=organization):
        budget_threshold_create(organization=organization, actor=None, owner=owner, pct=Decimal("100"), basis=ACTUAL)
        with pytest.raises(ValidationError) as excinfo:
            budget_threshold_create(organization=organization, actor=None, owner=owner, pct="100.00", basis=ACTUAL)
        assert excinfo.value.message_dict["pct"] == ["CC-1100 already has a threshold at 100.00% on actual spend."]
        budget_threshold_create(organization=organization, actor=None, owner=owner, pct="100", basis=FORECAST)
        assert BudgetThreshold.objects.filter(owner=owner).count() == 2


def test_a_cost_centre_of_another_organisation_is_refused(world, tree, tree_b):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_threshold_create(organization=organization, actor=None, owner=tree_b["CC-1100"], pct="80")
    assert "owner" in excinfo.value.message_dict


def test_update_and_deactivate_are_audited_and_a_no_op_writes_nothing(world, tree):
    organization = world.org("a")
    actor = world.user("a")
    with scope(organization=organization):
        threshold = budget_threshold_create(organization=organization, actor=actor, owner=tree["CC-1100"], pct="80")
        budget_threshold_update(threshold=threshold, actor=actor, data={"pct": Decimal("80.00")})
        assert [e.action for e in _events(organization, "budget_threshold.")] == ["budget_threshold.created"]
        budget_threshold_update(threshold=threshold, actor=actor, data={"pct": "90", "basis": FORECAST})
        budget_threshold_set_active(threshold=threshold, active=False, actor=actor, reason="noisy")
        with pytest.raises(ValidationError):
            budget_threshold_set_active(threshold=threshold, active=False, actor=actor)
        threshold.refresh_from_db()
        assert (threshold.pct, threshold.basis, threshold.is_active) == (Decimal("90.00"), FORECAST, False)
    events = _events(organization, "budget_threshold.")
    assert [e.action for e in events] == [
        "budget_threshold.created",
        "budget_threshold.updated",
        "budget_threshold.deactivated",
    ]
    assert events[1].before["pct"] == "80.00" and events[1].after == {
        "owner": "CC-1100",
        "pct": "90.00",
        "basis": "forecast",
        "is_active": True,
    }
    assert events[2].reason == "noisy"


def test_finance_adds_changes_and_deactivates_a_threshold_through_the_pages(world, tree):
    client = world.login("a", Role.FINANCE_ANALYST)
    owner = tree["CC-1101"]
    response = client.post(_url("threshold_create", world, pk=owner.pk), {"pct": "80", "basis": "actual"})
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        threshold = BudgetThreshold.objects.get(owner=owner)
    response = client.post(_url("threshold_create", world, pk=owner.pk), {"pct": "80.00", "basis": "actual"})
    assert response.status_code == 200
    assert "already has a threshold at 80.00% on actual spend" in response.content.decode()
    edit = _url("threshold_edit", world, pk=owner.pk, threshold_pk=threshold.pk)
    assert client.get(edit).status_code == 200
    client.post(edit, {"pct": "100", "basis": "forecast"})
    client.post(_url("threshold_deactivate", world, pk=owner.pk, threshold_pk=threshold.pk))
    with scope(organization=world.org("a")):
        threshold.refresh_from_db()
    assert (threshold.pct, threshold.basis, threshold.is_active) == (Decimal("100.00"), FORECAST, False)
    body = client.get(_url("detail", world, pk=owner.pk)).content.decode()
    assert "100.00%" in body and "Forecast to month end" in body and "Reactivate" in body


def test_a_threshold_is_reached_only_under_its_own_cost_centre(world, tree):
    with scope(organization=world.org("a")):
        threshold = budget_threshold_create(organization=world.org("a"), actor=None, owner=tree["CC-1101"], pct="80")
    client = world.login("a", Role.FINANCE_ANALYST)
    assert (
        client.get(_url("threshold_edit", world, pk=tree["CC-1102"].pk, threshold_pk=threshold.pk)).status_code == 404
    )


@pytest.mark.parametrize("role", [Role.BUDGET_OWNER, Role.VIEWER])
def test_readers_see_thresholds_but_cannot_change_them(world, tree, role):
    with scope(organization=world.org("a")):
        threshold = budget_threshold_create(organization=world.org("a"), actor=None, owner=tree["CC-1101"], pct="80")
    client = world.login("a", role)
    body = client.get(_url("detail", world, pk=tree["CC-1101"].pk)).content.decode()
    assert "80.00%" in body and "Add a threshold" not in body
    assert client.get(_url("threshold_create", world, pk=tree["CC-1101"].pk)).status_code == 403
    kwargs = {"pk": tree["CC-1101"].pk, "threshold_pk": threshold.pk}
    assert client.post(_url("threshold_deactivate", world, **kwargs)).status_code == 403
