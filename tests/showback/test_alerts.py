from datetime import date

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from apps.audit.models import AuditEvent
from apps.showback.models import Alert
from apps.showback.services import alert_acknowledge, alert_raise
from tests.factories.accounts import UserFactory
from tests.factories.tenancy import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_an_alert_fires_once_per_period_and_is_mailed_once(django_capture_on_commit_callbacks):
    org = OrganizationFactory(name="Acme")
    kwargs = dict(organization=org, kind="budget", key="threshold:7", period=date(2026, 11, 1))
    with django_capture_on_commit_callbacks(execute=True):
        alert, created = alert_raise(
            **kwargs, title="CC-1 reached 80% of its budget", recipients=["b@x.test", "a@x.test", ""]
        )
    assert created is True
    with django_capture_on_commit_callbacks(execute=True):
        again, created_again = alert_raise(**kwargs, title="a different title", recipients=["c@x.test"])
    assert (again.pk, created_again, again.title) == (alert.pk, False, "CC-1 reached 80% of its budget")
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("[Acme] CC-1 reached 80% of its budget", ["a@x.test", "b@x.test"])
    ]
    with scopes_disabled():
        alert.refresh_from_db()
        assert alert.notified_at is not None
        assert Alert.objects.filter(organization=org).count() == 1
        assert AuditEvent.objects.filter(organization=org, action="alert.raised").count() == 1
    # Another period is another alert.
    _, created_next = alert_raise(**{**kwargs, "period": date(2026, 12, 1)}, title="December")
    assert created_next is True


def test_acknowledge_once_and_tenants_apart():
    org, other = OrganizationFactory(), OrganizationFactory()
    user = UserFactory()
    alert, _ = alert_raise(organization=org, kind="spike", key="team:search", period=date(2026, 11, 20), title="Spike")
    _, created = alert_raise(
        organization=other, kind="spike", key="team:search", period=date(2026, 11, 20), title="Spike"
    )
    assert created is True  # the same key in another organisation is its own alert
    first = alert_acknowledge(alert=alert, actor=user)
    second = alert_acknowledge(alert=alert, actor=UserFactory())
    assert first.acknowledged_by_id == second.acknowledged_by_id == user.pk
    with scopes_disabled():
        assert AuditEvent.objects.filter(organization=org, action="alert.acknowledged").count() == 1
        assert Alert.objects.get(organization=other).acknowledged_at is None


def test_unknown_kind_refused():
    with pytest.raises(ValueError):
        alert_raise(organization=OrganizationFactory(), kind="nope", key="k", period=date(2026, 1, 1), title="t")
