"""Periods pages: the board, a period's page with its guards shown before clicking, transitions from the
page (4xx with the message when refused), the timeline, and the mode switch on the readiness panel."""

from datetime import date

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.periods import hooks
from apps.periods.models import BillingPeriod
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories.invoices import ProviderInvoiceFactory
from tests.factories.periods import LateArrivalFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import OCT, TO_CLOSED, TO_IN_REVIEW, G, allocated, chargeback, reconciled, step, walk

pytestmark = pytest.mark.django_db


def url(name: str, period: str | None = "2026-10", org: str = "alpha") -> str:
    kwargs = {"org_slug": org} if period is None else {"org_slug": org, "period": period}
    return reverse(f"periods:{name}", kwargs=kwargs)


def post(world, transition: str, role=Role.FINANCE_ANALYST, **data):
    return world.login("a", role).post(url("transition"), {"transition": transition, **data})


def test_the_board_lists_months_with_a_period_usage_or_invoices_with_state_figures_and_readiness(ready):
    world = ready
    organization = world.org("a")
    with scope(organization=organization):
        DailyUsageFactory(organization=organization, day=date(2026, 8, 10), cost_input_nano=2 * G)
        ProviderInvoiceFactory(organization=organization, billing_period=date(2026, 7, 1))
    walk(world, "start_reconciliation")
    allocated(world.org("a"))
    response = world.login("a", Role.FINANCE_ADMIN).get(url("board", None))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row.label, row.billing_period.state) for row in rows] == [
        ("2026-10", "reconciling"),
        ("2026-08", "open"),
        ("2026-07", "open"),
    ]
    october, august = rows[0], rows[1]
    # October's figures come from its reconciliation run: 100.00 estimated, 102.00 invoiced, +1.96 %.
    assert (october.figures.source, october.figures.estimated_nano, october.figures.invoiced_nano) == (
        "run",
        100 * G,
        102 * G,
    )
    assert str(october.figures.variance_pct) == "1.96"
    assert october.readiness.ready and october.readiness.text == "Ready: submit for review"
    assert (august.figures.source, august.figures.estimated_nano) == ("live", 2 * G)
    assert august.readiness.ready  # August is open: nothing blocks starting its reconciliation
    assert august.readiness.text == "Ready: start reconciliation"
    html = response.content.decode()
    assert "+1.96%" in html and "Ready: submit for review" in html


def test_the_board_shows_blocked_readiness_and_late_data(world, price_book):
    organization = chargeback(world.org("a"))
    walk(world, "start_reconciliation")
    with scope(organization=organization):
        billing_period = BillingPeriod.objects.get(period=OCT)
        LateArrivalFactory(billing_period=billing_period, job_id=7, rows=12, first_at=billing_period.created_at)
    response = world.login("a", Role.FINANCE_ANALYST).get(url("board", None))
    [row] = response.context["rows"]
    assert row.readiness.messages == [
        "Reconcile 2026-10 first: submitting for review needs a reconciliation run of the month.",
        "Allocate 2026-10 before sending it to review.",
    ]
    html = response.content.decode()
    assert "12 usage rows" in html
    assert "Late data." in html


def test_a_registered_fact_becomes_a_board_column(ready):
    def open_disputes(*, organization, billing_periods):
        return {bp.pk: 3 for bp in billing_periods}

    walk(ready, "start_reconciliation")
    registered = hooks.period_facts()
    hooks.register_period_fact("Open disputes", open_disputes)
    try:
        response = ready.login("a", Role.FINANCE_ADMIN).get(url("board", None))
        detail = ready.login("a", Role.FINANCE_ADMIN).get(url("detail"))
    finally:
        hooks._facts.clear()
        hooks._facts.update(registered)
    # The apps' own facts are columns too (the journal's: nothing booked before a close).
    labels = response.context["fact_labels"]
    assert sorted(labels) == ["Journal", "Open disputes"]
    assert [row.facts[labels.index("Open disputes")] for row in response.context["rows"]] == [3]
    assert '<th scope="col" class="num">Open disputes</th>' in response.content.decode()
    assert ("Open disputes", 3) in detail.context["facts"]


def test_the_board_is_for_finance_and_viewers_and_is_empty_before_any_data(world):
    assert world.login("a", Role.BUDGET_OWNER).get(url("board", None)).status_code == 403
    response = world.login("a", Role.VIEWER).get(url("board", None))
    assert response.status_code == 200
    assert "No months yet" in response.content.decode()


def test_a_month_without_anything_is_404(world):
    assert world.login("a", Role.FINANCE_ADMIN).get(url("detail", "2026-03")).status_code == 404
    assert world.login("a", Role.FINANCE_ADMIN).get(url("timeline", "2026-03")).status_code == 404


def test_the_period_page_shows_each_guard_before_clicking(world):
    run = reconciled(world.org("a"), within=False).run
    allocated(world.org("a"))
    walk(world, "start_reconciliation")
    analyst = world.login("a", Role.FINANCE_ANALYST).get(url("detail"))
    tolerance = (
        f"Reconciliation run #{run.pk} of 2026-10 is outside the 5% tolerance for anthropic (+6.30%), mistral "
        "(no invoice): fix the data and reconcile again, or a finance admin submits with an override and a "
        "written reason."
    )
    assert analyst.status_code == 200
    assert analyst.context["check"].blocked == [tolerance]
    html = analyst.content.decode()
    assert "Only finance admins can override the tolerance" in html
    assert 'name="override"' not in html
    admin = world.login("a", Role.FINANCE_ADMIN).get(url("detail"))
    assert 'name="override"' in admin.content.decode()
    assert admin.context["override_check"].blocked == []


def test_a_viewer_sees_who_may_act_and_no_button(ready):
    response = ready.login("a", Role.VIEWER).get(url("detail"))
    html = response.content.decode()
    assert "Your role (Viewer) cannot start reconciling 2026-10: only finance admins and finance analysts can." in html
    assert 'name="transition"' not in html


def test_each_transition_from_the_page_moves_the_period_and_says_so(ready):
    allocated(ready.org("a"))
    world = ready
    clients = {role: world.login("a", role) for role in (Role.FINANCE_ANALYST, Role.FINANCE_ADMIN)}
    for name, role in [
        ("start_reconciliation", Role.FINANCE_ANALYST),
        ("submit_for_review", Role.FINANCE_ANALYST),
        ("approve", Role.FINANCE_ADMIN),
        ("close", Role.FINANCE_ADMIN),
    ]:
        response = clients[role].post(url("transition"), {"transition": name})
        assert (response.status_code, response["Location"]) == (302, url("detail")), name
    page = clients[Role.FINANCE_ADMIN].get(url("detail"))
    assert [str(m) for m in page.context["messages"]] == [
        "Approve: 2026-10 is now approved.",
        "Close: 2026-10 is now closed.",
    ]
    response = clients[Role.FINANCE_ADMIN].post(url("transition"), {"transition": "reopen", "reason": "credit note"})
    assert response.status_code == 302
    page = clients[Role.FINANCE_ADMIN].get(url("detail"))
    assert [str(m) for m in page.context["messages"]] == ["Reopen: 2026-10 is now open (version 2)."]
    with scope(organization=world.org("a")):
        assert BillingPeriod.objects.get(period=OCT).version == 2


def test_skipping_a_state_from_the_page_answers_409_with_the_message(ready):
    response = post(ready, "approve", Role.FINANCE_ADMIN)
    assert response.status_code == 409
    assert response.context["errors"] == ["2026-10 is open: Approve needs a period that is in review."]
    html = response.content.decode()
    assert "Approve was refused:" in html
    assert "2026-10 is open: Approve needs a period that is in review." in html


def test_the_preparers_own_approval_is_refused_on_the_page(ready):
    step(ready, "start_reconciliation")
    step(ready, "submit_for_review", actor=ready.user("a", Role.FINANCE_ADMIN))
    page = ready.login("a", Role.FINANCE_ADMIN).get(url("detail"))
    message = (
        "alpha-finance_admin prepared 2026-10 (submitted it for review), so cannot approve it: another finance "
        "admin must (maker-checker)."
    )
    assert page.context["check"].forbidden == [message]  # said before clicking
    response = post(ready, "approve", Role.FINANCE_ADMIN)
    assert response.status_code == 403
    assert response.context["errors"] == [message]
    with scope(organization=ready.org("a")):
        assert BillingPeriod.objects.get(period=OCT).state == "in_review"


def test_a_guard_answers_400_and_a_missing_reopen_reason_is_a_guard(world):
    walk(world, "start_reconciliation")
    response = post(world, "submit_for_review")
    assert response.status_code == 400
    assert response.context["errors"] == [
        "Reconcile 2026-10 first: submitting for review needs a reconciliation run of the month.",
        "Allocate 2026-10 before sending it to review.",
    ]
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    walk(world, *TO_CLOSED[1:])
    response = post(world, "reopen", Role.FINANCE_ADMIN, reason="")
    assert response.status_code == 400
    assert response.context["errors"] == [
        "Reopening needs a written reason: it starts version 2 of 2026-10's statements."
    ]


def test_an_analyst_may_not_approve_from_the_page(ready):
    walk(ready, *TO_IN_REVIEW)
    response = post(ready, "approve", Role.FINANCE_ANALYST)
    assert response.status_code == 403
    assert response.context["errors"] == [
        "Your role (Finance analyst (preparer)) cannot approve 2026-10: only finance admins can."
    ]


def test_the_timeline_lists_every_transition_with_actor_states_and_reason(ready):
    walk(ready, *TO_CLOSED)
    step(ready, "reopen", reason="credit note")
    response = ready.login("a", Role.VIEWER).get(url("timeline"))
    assert response.status_code == 200
    rows = [(e.actor_label, e.action, e.before["state"], e.after["state"], e.reason) for e in response.context["page"]]
    assert rows == [
        ("alpha-finance_analyst", "billing_period.start_reconciliation", "open", "reconciling", ""),
        ("alpha-finance_analyst", "billing_period.submit_for_review", "reconciling", "in_review", ""),
        ("alpha-finance_admin", "billing_period.approve", "in_review", "approved", ""),
        ("alpha-finance_admin", "billing_period.close", "approved", "closed", ""),
        ("alpha-finance_admin", "billing_period.reopen", "closed", "open", "credit note"),
    ]
    assert "credit note" in response.content.decode()


def test_an_org_admin_switches_mode_from_the_readiness_panel(world):
    home = reverse("portal:home", kwargs={"org_slug": "alpha"})
    page = world.login("a", Role.ORG_ADMIN).get(home).content.decode()
    assert "Switch to chargeback</button>" in page
    finance = world.login("a", Role.FINANCE_ADMIN).get(home).content.decode()
    assert "Switch to chargeback</button>" not in finance and "An org admin switches the mode" in finance
    response = world.login("a", Role.ORG_ADMIN).post(
        reverse("accounts:mode_switch", kwargs={"org_slug": "alpha"}),
        {"mode": "chargeback", "reason": "variance within tolerance for a quarter", "next": "home"},
    )
    assert response.status_code == 302 and response["Location"] == home
    assert Organization.objects.get(pk=world.org("a").pk).mode == "chargeback"
    with scope(organization=world.org("a")):
        event = AuditEvent.objects.get(action="organization.mode_switched")
    assert (event.before, event.after, event.reason, event.actor_label) == (
        {"mode": "showback"},
        {"mode": "chargeback"},
        "variance within tolerance for a quarter",
        "alpha-org_admin",
    )
    denied = world.login("a", Role.FINANCE_ADMIN).post(
        reverse("accounts:mode_switch", kwargs={"org_slug": "alpha"}),
        {"mode": "showback", "reason": "no", "next": "home"},
    )
    assert denied.status_code == 403
