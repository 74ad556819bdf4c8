"""The admin's workflow actions call the period service, so maker-checker and the audit hold there too."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods.models import BillingPeriod
from apps.tenancy.roles import Role
from tests.mfa import pass_second_factor
from tests.scenarios import OCT, TO_CLOSED, second_finance_admin, step, walk

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:periods_billingperiod_changelist")


def admin_client(user) -> Client:
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    return client


def run_action(client: Client, billing_period, action: str, **extra):
    return client.post(CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [billing_period.pk], **extra}, follow=True)


def test_the_preparer_cannot_approve_in_the_admin_either(ready):
    preparer = ready.user("a", Role.FINANCE_ADMIN)
    step(ready, "start_reconciliation")
    billing_period = step(ready, "submit_for_review", actor=preparer)
    response = run_action(admin_client(preparer), billing_period, "approve")
    assert [str(m) for m in response.context["messages"]] == [
        "alpha 2026-10: alpha-finance_admin prepared 2026-10 (submitted it for review), so cannot approve it: "
        "another finance admin must (maker-checker)."
    ]
    billing_period.refresh_from_db()
    assert billing_period.state == "in_review"
    response = run_action(admin_client(second_finance_admin(ready)), billing_period, "approve")
    assert [str(m) for m in response.context["messages"]] == ["alpha 2026-10: Approve done."]
    billing_period.refresh_from_db()
    assert billing_period.state == "approved"
    with scope(organization=ready.org("a")):
        assert AuditEvent.objects.filter(action="billing_period.approve").count() == 1


def test_a_superuser_without_a_role_in_the_organisation_gets_nothing(ready):
    from tests.factories import UserFactory

    billing_period = walk(ready, "start_reconciliation")
    response = run_action(admin_client(UserFactory(username="root")), billing_period, "submit_for_review")
    assert [str(m) for m in response.context["messages"]] == [
        "alpha 2026-10: root is not a member of Alpha Corp: only finance admins and finance analysts can submit "
        "for review 2026-10."
    ]


def test_reopening_in_the_admin_asks_for_a_reason(ready):
    billing_period = walk(ready, *TO_CLOSED)
    client = admin_client(ready.user("a", Role.FINANCE_ADMIN))
    form = run_action(client, billing_period, "reopen")
    assert form.templates[0].name == "admin/periods/billingperiod/reopen.html"
    done = run_action(client, billing_period, "reopen", apply="Reopen", reason="credit note")
    assert [str(m) for m in done.context["messages"]] == ["alpha 2026-10: Reopen done."]
    with scope(organization=ready.org("a")):
        billing_period = BillingPeriod.objects.get(period=OCT)
        event = AuditEvent.objects.get(action="billing_period.reopen")
    assert (billing_period.state, billing_period.version, event.reason) == ("open", 2, "credit note")


def test_periods_are_read_only_in_the_admin(ready):
    billing_period = walk(ready, "start_reconciliation")
    client = admin_client(ready.user("a", Role.FINANCE_ADMIN))
    change = reverse("admin:periods_billingperiod_change", args=[billing_period.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.post(change, {"state": "closed"}).status_code == 403
    assert client.get(reverse("admin:periods_billingperiod_add")).status_code == 403
