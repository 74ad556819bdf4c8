"""Periods API: list and detail, and transitions with 200 / 409 / 400 / 403 and every message. A token acts
for the member who created it, so maker-checker holds on the API too."""

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods.models import BillingPeriod
from apps.tenancy.roles import Role, TokenScope
from tests.factories import ApiClientFactory
from tests.scenarios import OCT, TO_CLOSED, TO_IN_REVIEW, allocated, reconciled, second_finance_admin, step, walk

pytestmark = pytest.mark.django_db

TRANSITIONS_URL = reverse("api:period-transitions", kwargs={"period": "2026-10"})


def token(world, *, created_by=None, scopes=None, key: str = "a") -> Client:
    organization = world.org(key)
    with scope(organization=organization):
        client = ApiClientFactory(
            organization=organization,
            created_by=created_by,
            scopes=scopes or [TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE],
        )
    return Client(headers={"Authorization": f"Bearer {client.raw_token}"})


def transition(api: Client, name: str, **body):
    return api.post(TRANSITIONS_URL, {"transition": name, **body}, content_type="application/json")


def test_list_and_detail_show_state_bounds_sign_offs_and_late_data(ready):
    walk(ready, *TO_IN_REVIEW)
    api = token(ready)
    listing = api.get(reverse("api:period-list"))
    assert listing.status_code == 200
    [row] = listing.json()["results"]
    assert {k: row[k] for k in ("period", "starts_on", "ends_before", "state", "version", "next_transition")} == {
        "period": "2026-10",
        "starts_on": "2026-10-01",
        "ends_before": "2026-11-01",
        "state": "in_review",
        "version": 1,
        "next_transition": "approve",
    }
    assert row["prepared_by_label"] == "alpha-finance_analyst"
    assert row["late_data"] == {"usage_rows": 0, "invoice_lines": 0, "first_at": None, "last_at": None}
    detail = api.get(reverse("api:period-detail", kwargs={"period": "2026-10"}))
    assert detail.status_code == 200 and detail.json() == row
    filtered = api.get(reverse("api:period-list"), {"state": "closed"})
    assert filtered.json()["results"] == []


def test_the_list_is_cursor_paginated(ready):
    for month in (7, 8, 9, 10):
        walk(ready, "start_reconciliation", period=OCT.replace(month=month))
    api = token(ready)
    first = api.get(reverse("api:period-list"), {"page_size": 3}).json()
    assert [row["period"] for row in first["results"]] == ["2026-07", "2026-08", "2026-09"]
    second = api.get(first["next"]).json()
    assert [row["period"] for row in second["results"]] == ["2026-10"] and second["next"] is None


def test_a_month_without_a_period_row_is_404_and_a_bad_month_is_not_a_url(ready):
    api = token(ready)
    response = api.get(reverse("api:period-detail", kwargs={"period": "2026-10"}))
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "2026-10 has no billing period yet: its first transition (start_reconciliation) or allocation creates it."
    )
    assert api.get("/api/v1/periods/2026-13/").status_code == 404


def test_a_token_walks_a_period_to_review_and_its_creators_colleague_approves(ready):
    allocated(ready.org("a"))
    analyst_token = token(ready, created_by=ready.user("a", Role.FINANCE_ANALYST))
    response = transition(analyst_token, "start_reconciliation")
    assert response.status_code == 200
    assert response.json()["state"] == "reconciling"
    assert transition(analyst_token, "submit_for_review", reason="ERP says ready").json()["state"] == "in_review"
    approver_token = token(ready, created_by=ready.user("a", Role.FINANCE_ADMIN))
    approved = transition(approver_token, "approve")
    assert approved.status_code == 200
    assert approved.json()["approved_by_label"].endswith(" for alpha-finance_admin")
    with scope(organization=ready.org("a")):
        events = list(AuditEvent.objects.filter(action__startswith="billing_period.").order_by("seq"))
        billing_period = BillingPeriod.objects.get(period=OCT)
    assert [(e.action, e.actor.username, e.reason) for e in events] == [
        ("billing_period.start_reconciliation", "alpha-finance_analyst", ""),
        ("billing_period.submit_for_review", "alpha-finance_analyst", "ERP says ready"),
        ("billing_period.approve", "alpha-finance_admin", ""),
    ]
    assert events[0].actor_label.startswith("api:client-") and events[0].actor_label.endswith(
        " for alpha-finance_analyst"
    )
    assert billing_period.prepared_by == ready.user("a", Role.FINANCE_ANALYST)


def test_skipping_a_state_answers_409(ready):
    api = token(ready, created_by=ready.user("a", Role.FINANCE_ADMIN))
    response = transition(api, "close")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "2026-10 is open: Close needs a period that is approved.",
        "messages": ["2026-10 is open: Close needs a period that is approved."],
    }


def test_a_guard_answers_400_with_every_message(world):
    run = reconciled(world.org("a"), within=False).run
    allocated(world.org("a"))
    walk(world, "start_reconciliation")
    api = token(world, created_by=world.user("a", Role.FINANCE_ANALYST))
    response = transition(api, "submit_for_review")
    assert response.status_code == 400
    assert response.json()["messages"] == [
        f"Reconciliation run #{run.pk} of 2026-10 is outside the 5% tolerance for anthropic (+6.30%), mistral "
        "(no invoice): fix the data and reconcile again, or a finance admin submits with an override and a "
        "written reason."
    ]
    admin_api = token(world, created_by=world.user("a", Role.FINANCE_ADMIN))
    overridden = transition(admin_api, "submit_for_review", override=True, reason="credit note due")
    assert overridden.status_code == 200
    assert overridden.json()["override_reason"] == "credit note due"


def test_an_invalid_body_answers_400(ready):
    response = transition(token(ready), "finalise")
    assert response.status_code == 400
    assert response.json()["messages"] == ['transition: "finalise" is not a valid choice.']


def test_the_preparers_own_approval_is_refused_on_the_api(ready):
    admin = ready.user("a", Role.FINANCE_ADMIN)
    step(ready, "start_reconciliation")
    step(ready, "submit_for_review", actor=admin)
    response = transition(token(ready, created_by=admin), "approve")
    assert response.status_code == 403
    assert response.json()["messages"] == [
        "alpha-finance_admin prepared 2026-10 (submitted it for review), so cannot approve it: another finance "
        "admin must (maker-checker)."
    ]
    assert transition(token(ready, created_by=second_finance_admin(ready)), "approve").status_code == 200


def test_a_token_made_by_nobody_prepares_but_never_approves(ready):
    allocated(ready.org("a"))
    api = token(ready)  # no creator: the client acts as itself
    walk_response = [transition(api, name).status_code for name in TO_IN_REVIEW]
    assert walk_response == [200, 200]
    with scope(organization=ready.org("a")):
        billing_period = BillingPeriod.objects.get(period=OCT)
    assert billing_period.prepared_by is None and billing_period.prepared_by_label.startswith("api:client-")
    response = transition(api, "approve")
    assert response.status_code == 403
    name = billing_period.prepared_by_label.removeprefix("api:")
    assert response.json()["messages"] == [
        f"API client {name} cannot approve 2026-10: it acts for nobody (it was not created by a current member), "
        "and only finance admins can approve a period. Do it in the portal."
    ]


def test_a_token_acts_with_its_creators_current_role(ready):
    walk(ready, *TO_IN_REVIEW)
    response = transition(token(ready, created_by=ready.user("a", Role.ORG_ADMIN)), "approve")
    assert response.status_code == 403
    assert (
        "acts for alpha-org_admin, whose role (Org admin) cannot approve 2026-10: only finance admins can."
        in (response.json()["detail"])
    )


def test_writing_needs_the_periods_write_scope_and_reading_periods_read(ready):
    read_only = token(ready, scopes=[TokenScope.PERIODS_READ], created_by=ready.user("a", Role.FINANCE_ADMIN))
    response = transition(read_only, "start_reconciliation")
    assert response.status_code == 403
    assert response.json()["detail"] == "This token lacks the 'periods:write' scope."
    assert token(ready, scopes=[TokenScope.USAGE_WRITE]).get(reverse("api:period-list")).status_code == 403


def test_a_month_the_organisation_has_nothing_in_is_404_for_transitions(world):
    api = token(world, created_by=world.user("a", Role.FINANCE_ANALYST))
    response = api.post(
        reverse("api:period-transitions", kwargs={"period": "2026-03"}),
        {"transition": "start_reconciliation"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_reopen_needs_a_reason_on_the_api(ready):
    walk(ready, *TO_CLOSED)
    api = token(ready, created_by=ready.user("a", Role.FINANCE_ADMIN))
    assert transition(api, "reopen").json()["messages"] == [
        "Reopening needs a written reason: it starts version 2 of 2026-10's statements."
    ]
    reopened = transition(api, "reopen", reason="credit note")
    assert (reopened.status_code, reopened.json()["state"], reopened.json()["version"]) == (200, "open", 2)
