"""Cross-tenant cases for the showback app: its alerts (the pages come with the dashboards)."""

import datetime

from django_scopes import scope

from apps.showback.models import Alert

from . import tenant_model


def make_alert(world, organization) -> Alert:
    with scope(organization=organization):
        alert, _ = Alert.objects.get_or_create(
            organization=organization,
            kind="spike",
            key="team:search",
            period=datetime.date(2026, 11, 20),
            defaults={"title": f"{organization.slug}: search spent 5× its band", "link": ""},
        )
    return alert


tenant_model("showback.alert", make_alert)
