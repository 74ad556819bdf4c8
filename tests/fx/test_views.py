"""The exchange-rates settings page: coverage, gaps, policy, own-rate uploads; permissions and audit."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.fx.hooks import _demands, register_rate_demand
from apps.fx.models import OrgFxRate
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _url(world, name, key="a"):
    return reverse(name, kwargs={"org_slug": world.org(key).slug})


def test_page_shows_coverage_and_when_rates_go_missing(world, ecb_rates):
    body = world.login("a", Role.VIEWER).get(_url(world, "fx:exchange_rates")).content.decode()
    assert "ECB reference rates by currency" in body
    assert "<code>USD</code>" in body and "1.1172" in body and "2026-10-30" in body
    assert "2026-11-02" in body  # the first working day without a USD rate
    assert "Upload rates" not in body and "Save" not in body  # a viewer changes nothing


def test_empty_states(world):
    body = world.login("a").get(_url(world, "fx:exchange_rates")).content.decode()
    assert "No ECB rates loaded yet" in body and "No own rates" in body and "No gap" in body


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ORG_ADMIN, 200), (Role.FINANCE_ADMIN, 200), (Role.VIEWER, 200), (Role.BUDGET_OWNER, 403)],
)
def test_who_sees_the_page(world, role, status):
    assert world.login("a", role).get(_url(world, "fx:exchange_rates")).status_code == status


def test_org_admin_changes_the_policy_audited(world):
    response = world.login("a").post(
        _url(world, "fx:exchange_rates_settings"),
        {"fx_policy": "month_average", "fx_source": "own", "reason": "treasury rates from FY27"},
    )
    assert response.status_code == 302
    org = world.org("a")
    org.refresh_from_db()
    assert (org.fx_policy, org.fx_source) == ("month_average", "own")
    with scope(organization=org):
        [event] = AuditEvent.objects.filter(organization=org, action="organization.updated")
    assert event.before["fx_policy"] == "usage_day" and event.after["fx_policy"] == "month_average"
    assert event.after["fx_source"] == "own" and event.reason == "treasury rates from FY27"


def test_finance_admin_may_not_change_the_policy_nor_org_admin_upload(world):
    assert (
        world.login("a", Role.FINANCE_ADMIN)
        .post(_url(world, "fx:exchange_rates_settings"), {"fx_policy": "period_end", "fx_source": "ecb"})
        .status_code
        == 403
    )
    upload = SimpleUploadedFile("rates.csv", b"day,from,to,rate\n2026-11-02,USD,EUR,0.8712\n")
    assert world.login("a").post(_url(world, "fx:exchange_rates_upload"), {"file": upload}).status_code == 403


def test_finance_admin_uploads_own_rates(world):
    csv = (
        b"day,from,to,rate,source,note\n"
        b"2026-11-02,USD,EUR,0.8712,Treasury EOD,month-end fixing\n"
        b"2026-11-03,USD,EUR,0.87,,\n"
    )
    client = world.login("a", Role.FINANCE_ADMIN)
    response = client.post(_url(world, "fx:exchange_rates_upload"), {"file": SimpleUploadedFile("rates.csv", csv)})
    assert response.status_code == 302
    org = world.org("a")
    with scope(organization=org):
        rates = {(r.day, r.source): r.rate_e10 for r in OrgFxRate.objects.all()}
        [event] = AuditEvent.objects.filter(organization=org, action="fx.rates_loaded")
    assert rates == {(date(2026, 11, 2), "Treasury EOD"): 8_712_000_000, (date(2026, 11, 3), "own"): 8_700_000_000}
    assert event.after["created"] == 2 and event.after["pairs"] == ["USD/EUR"]
    body = client.get(_url(world, "fx:exchange_rates")).content.decode()
    assert "Treasury EOD" in body and "rates.csv" in body and "0.8712" in body
    with scope(organization=world.org("b")):
        assert OrgFxRate.objects.count() == 0


def test_a_bad_file_loads_nothing_and_says_why(world):
    csv = b"day,from,to,rate\n2026-11-02,USD,EUR,0.8712\n2026-11-03,USD,USD,1\n2026-11-04,USD,EUR,1e-3\n"
    response = world.login("a", Role.FINANCE_ADMIN).post(
        _url(world, "fx:exchange_rates_upload"), {"file": SimpleUploadedFile("rates.csv", csv)}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Line 3: from and to are the same currency." in body
    assert "Line 4: rate &#x27;1e-3&#x27; is not a plain decimal number." in body
    with scope(organization=world.org("a")):
        assert OrgFxRate.objects.count() == 0


def test_gaps_of_what_other_apps_need_converted(world, ecb_rates):
    org = world.org("a")
    org.base_currency = "EUR"
    org.save()

    def demand(*, organization):
        if organization.pk == org.pk:
            return [("USD", date(2026, 10, 1), date(2026, 11, 30)), ("EUR", date(2026, 10, 1), date(2026, 11, 30))]
        return []

    register_rate_demand(demand)
    try:
        body = world.login("a").get(_url(world, "fx:exchange_rates")).content.decode()
        other = world.login("b").get(_url(world, "fx:exchange_rates", "b")).content.decode()
    finally:
        _demands.remove(demand)
    assert "No ECB exchange rate for USD on 2026-11-02 to 2026-11-30" in body
    assert "the last USD rate loaded is of 2026-10-30" in body
    assert "No gap" in other
