"""Periods API: list and detail, and transitions with 200 (202 and a job for those that issue statements) / 409 /
400 / 403 and every message. A token is a service account: it prepares when its own role allows it, and
approving, closing, reopening and overriding are human actions it is refused whatever its role, so maker-checker
compares people on the API too."""

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods.models import BillingPeriod
from apps.periods.services import TransitionForbidden
from apps.periods.workflow import TRANSITIONS
from apps.tenancy.roles import HUMAN_ONLY_MESSAGE, Role, TokenScope
from tests.factories import ApiClientFactory
from tests.scenarios import OCT, TO_CLOSED, TO_IN_REVIEW, allocated, reconciled, second_finance_admin, step, walk

pytestmark = pytest.mark.django_db

TRANSITIONS_URL = reverse("api:period-transitions", kwargs={"period": "2026-10"})


def token(world, *, role=Role.FINANCE_ANALYST, created_by=None, scopes=None, key: str = "a") -> Client:
    """A service account's HTTP client; ``api.client`` is the ApiClient row."""
    organization = world.org(key)
    with scope(organization=organization):
        client = ApiClientFactory(
            organization=organization,
            role=role,
            created_by=created_by,
            scopes=scopes or [TokenScope.PERIODS_READ, TokenScope.PERIODS_WRITE],
        )
    api = Client(headers={"Authorization": f"Bearer {client.raw_token}"})
    api.client = client
    return api


def billing_period_events(organization) -> list[AuditEvent]:
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action__startswith="billing_period.").order_by("seq"))


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


def test_a_token_prepares_as_itself_and_a_person_approves(ready):
    allocated(ready.org("a"))
    analyst_token = token(ready, created_by=ready.user("a", Role.FINANCE_ADMIN))
    label = analyst_token.client.audit_label
    response = transition(analyst_token, "start_reconciliation")
    assert response.status_code == 200
    assert response.json()["state"] == "reconciling"
    # Submitting issues the statements: checked at once, done by a worker (here in-process): 202 and the job.
    accepted = transition(analyst_token, "submit_for_review", reason="ERP says ready")
    assert accepted.status_code == 202
    job = accepted.json()
    assert accepted["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}/"
    assert (job["kind"], job["status"], job["created_by_label"]) == ("periods.transition", "succeeded", label)
    assert {k: job["result"][k] for k in ("period", "transition", "state", "version")} == {
        "period": "2026-10",
        "transition": "submit_for_review",
        "state": "in_review",
        "version": 1,
    }
    assert job["result_url"] == "/o/alpha/periods/2026-10/"
    submitted = analyst_token.get("/api/v1/periods/2026-10/").json()
    assert (submitted["state"], submitted["prepared_by_label"]) == ("in_review", label)
    assert analyst_token.get(job["url"]).json()["status"] == "succeeded"  # the token follows its job
    # The token's preparation counts as its creator's for maker-checker: the finance admin who made it may not
    # approve what it submitted (one person could otherwise prepare by script and approve by hand); another may.
    maker = ready.user("a", Role.FINANCE_ADMIN)
    refused = token_less_approve(ready, maker)
    assert refused == [
        f"alpha-finance_admin prepared 2026-10 (through the API client they created, {label}), so cannot "
        "approve it: another finance admin must (maker-checker)."
    ]
    checker = second_finance_admin(ready)
    step(ready, "approve", actor=checker)
    events = billing_period_events(ready.org("a"))
    assert [(e.action, e.actor, e.actor_label, e.reason) for e in events] == [
        ("billing_period.start_reconciliation", None, label, ""),
        ("billing_period.submit_for_review", None, label, "ERP says ready"),
        ("billing_period.approve", checker, checker.get_username(), ""),
    ]
    with scope(organization=ready.org("a")):
        billing_period = BillingPeriod.objects.get(period=OCT)
    assert billing_period.prepared_by == maker and billing_period.prepared_by_label == label


def token_less_approve(world, person) -> list[str]:
    with pytest.raises(TransitionForbidden) as excinfo:
        step(world, "approve", actor=person)
    return excinfo.value.messages


def test_skipping_a_state_answers_409(ready):
    response = transition(token(ready), "submit_for_review")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "2026-10 is open: Submit for review needs a period that is reconciling.",
        "messages": ["2026-10 is open: Submit for review needs a period that is reconciling."],
    }


def test_a_guard_answers_400_with_every_message(world):
    run = reconciled(world.org("a"), within=False).run
    allocated(world.org("a"))
    walk(world, "start_reconciliation")
    api = token(world)
    response = transition(api, "submit_for_review")
    assert response.status_code == 400
    assert response.json()["messages"] == [
        f"Reconciliation run #{run.pk} of 2026-10 is outside the 5% tolerance for anthropic (+6.30%), mistral "
        "(no invoice): fix the data and reconcile again, or a finance admin submits with an override and a "
        "written reason."
    ]
    # Overriding a guard is a human action: refused to a token whatever its role (a migrated client may hold
    # a finance admin's), and a person does it in the portal.
    for role in (Role.FINANCE_ANALYST, Role.FINANCE_ADMIN):
        refused = transition(token(world, role=role), "submit_for_review", override=True, reason="credit note due")
        assert refused.status_code == 403
        assert refused.json()["messages"] == [HUMAN_ONLY_MESSAGE]
    overridden = step(
        world, "submit_for_review", actor=world.user("a", Role.FINANCE_ADMIN), override=True, reason="credit note due"
    )
    assert overridden.override_reason == "credit note due"


def test_an_invalid_body_answers_400(ready):
    response = transition(token(ready), "finalise")
    assert response.status_code == 400
    assert response.json()["messages"] == ['transition: "finalise" is not a valid choice.']


@pytest.mark.parametrize(
    ("done", "name", "body"),
    [
        (TO_IN_REVIEW, "approve", {}),
        ((*TO_IN_REVIEW, "approve"), "close", {}),
        (TO_CLOSED, "reopen", {"reason": "credit note"}),
    ],
)
@pytest.mark.parametrize("role", [Role.FINANCE_ADMIN, Role.ORG_ADMIN, Role.FINANCE_ANALYST])
def test_approving_closing_and_reopening_are_refused_to_every_token(ready, done, name, body, role):
    walk(ready, *done)
    before = billing_period_events(ready.org("a"))
    api = token(ready, role=role, created_by=ready.user("a", Role.FINANCE_ADMIN))
    response = transition(api, name, **body)
    assert response.status_code == 403
    assert response.json() == {"detail": HUMAN_ONLY_MESSAGE, "messages": [HUMAN_ONLY_MESSAGE]}
    assert billing_period_events(ready.org("a")) == before  # nothing changed, nothing recorded
    with scope(organization=ready.org("a")):
        assert BillingPeriod.objects.get(period=OCT).state == TRANSITIONS[name].source


def test_a_token_made_by_nobody_prepares_but_never_approves(ready):
    allocated(ready.org("a"))
    api = token(ready)  # no creator: the client acts as itself, as every client does
    walk_response = [transition(api, name).status_code for name in TO_IN_REVIEW]
    assert walk_response == [200, 202]  # submitting for review is a job (it issues the statements)
    with scope(organization=ready.org("a")):
        billing_period = BillingPeriod.objects.get(period=OCT)
    assert billing_period.prepared_by is None and billing_period.prepared_by_label == api.client.audit_label
    response = transition(api, "approve")
    assert response.status_code == 403
    assert response.json()["messages"] == [HUMAN_ONLY_MESSAGE]


def test_a_token_acts_with_its_own_role_not_its_creators(ready):
    # A finance admin's viewer token may not prepare: the creator's role lends it nothing.
    viewer = token(ready, role=Role.VIEWER, created_by=ready.user("a", Role.FINANCE_ADMIN))
    response = transition(viewer, "start_reconciliation")
    assert response.status_code == 403
    assert response.json()["messages"] == [
        f"API client {viewer.client.name} has the role Viewer, which cannot start reconciling 2026-10: only "
        "finance admins and finance analysts can."
    ]
    # A viewer's analyst token may: its own role is what counts.
    analyst = token(ready, role=Role.FINANCE_ANALYST, created_by=ready.user("a", Role.VIEWER))
    assert transition(analyst, "start_reconciliation").json()["state"] == "reconciling"


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


def test_reopen_is_a_human_action_with_or_without_a_reason(ready):
    walk(ready, *TO_CLOSED)
    api = token(ready, role=Role.FINANCE_ADMIN)
    for body in ({}, {"reason": "credit note"}):
        response = transition(api, "reopen", **body)
        assert (response.status_code, response.json()["messages"]) == (403, [HUMAN_ONLY_MESSAGE])
