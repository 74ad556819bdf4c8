import pytest
from django.urls import reverse

from apps.reconciliation.services import reconciliation_run_create
from apps.tenancy.roles import TokenScope

from .conftest import OCT, build_october

pytestmark = pytest.mark.django_db


def url(period: str) -> str:
    return reverse("api:period-reconciliation", kwargs={"period": period})


def test_the_latest_run_of_a_period_with_its_provider_lines(world, october):
    reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    latest = reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    response = world.api("a", [TokenScope.PERIODS_READ]).get(url("2026-10"))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == latest.pk
    assert {k: body[k] for k in ("period", "currency", "tolerance_pct", "status", "estimated", "invoiced")} == {
        "period": "2026-10",
        "currency": "USD",
        "tolerance_pct": "5",
        "status": "outside",
        "estimated": "192.99",
        "invoiced": "207.00",
    }
    assert body["providers"][0] == {
        "provider": "anthropic",
        "estimated": "94.99",
        "invoiced": "100.00",
        "variance": "5.01",
        "variance_pct": "5.01",
        "within_tolerance": False,
        "note": "",
    }
    assert [p["provider"] for p in body["providers"]] == ["anthropic", "google", "mistral", "openai"]
    assert body["untagged_requests"] == {"team": 30, "feature": 7, "environment": 30, "customer": 240}
    assert (body["platform_overhead_pct"], body["unallocated"], body["other_cloud"]) == ("10.36", "15.00", "12.40")


def test_each_organisation_sees_its_own_run_of_the_same_period(world, october):
    build_october(world.org("b"))
    reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    run_b = reconciliation_run_create(organization=world.org("b"), period=OCT, actor=None)
    assert world.api("b").get(url("2026-10")).json()["id"] == run_b.pk
    assert world.api("a").get(url("2026-10")).json()["id"] != run_b.pk


def test_404_when_not_reconciled_or_not_a_period(world):
    api = world.api("a")
    assert api.get(url("2026-10")).status_code == 404
    assert api.get(url("2026-13")).status_code == 404
    assert api.get(url("latest")).status_code == 404


def test_needs_the_periods_read_scope(world, october):
    reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    assert world.api("a", [TokenScope.USAGE_READ]).get(url("2026-10")).status_code == 403
