"""Cross-tenant cases for showback's forecasts, spikes' alerts and the alerts page."""

import datetime

from django_scopes import scope

from apps.showback.models import Alert, ForecastSnapshot

from . import TENANT_MODELS, portal_route, tenant_model
from .cases_owners import make_budget_owner


def make_forecast_snapshot(world, organization) -> ForecastSnapshot:
    owner = make_budget_owner(world, organization)
    with scope(organization=organization):
        snapshot, _ = ForecastSnapshot.objects.get_or_create(
            organization=organization,
            owner=owner,
            period=datetime.date(2026, 10, 1),
            defaults={
                "amount_nano": 5_000_000_000,
                "lower_nano": 4_000_000_000,
                "upper_nano": 6_000_000_000,
                "currency": "USD",
                "method": "mean3",
                "history_months": 2,
                "history_through": datetime.date(2026, 9, 1),
            },
        )
    return snapshot


def make_spike_alert(world, organization) -> Alert:
    owner = make_budget_owner(world, organization)
    with scope(organization=organization):
        alert, _ = Alert.objects.get_or_create(
            organization=organization,
            kind=Alert.Kind.SPIKE,
            key="team:search",
            period=datetime.date(2026, 10, 5),
            defaults={"owner": owner, "title": "Spend spike: team search"},
        )
    return alert


tenant_model("showback.forecastsnapshot", make_forecast_snapshot)
if "showback.alert" not in TENANT_MODELS:  # the showback skeleton's own cases may have registered it
    tenant_model("showback.alert", make_spike_alert)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _alert(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_spike_alert(world, organization).pk}


portal_route("showback:forecasts", _org)
portal_route("showback:alerts", _org)
portal_route("showback:alert_ack", _alert, method="post", role="finance_admin")
