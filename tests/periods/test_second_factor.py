"""Approving, closing, reopening and overriding need a second factor from a finance admin in this session."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.periods.models import BillingPeriod
from apps.tenancy.roles import Role
from tests.mfa import pass_second_factor
from tests.scenarios import OCT, TO_CLOSED, TO_IN_REVIEW, second_finance_admin, step, walk

pytestmark = pytest.mark.django_db

DETAIL = reverse("periods:detail", kwargs={"org_slug": "alpha", "period": "2026-10"})
TRANSITION = reverse("periods:transition", kwargs={"org_slug": "alpha", "period": "2026-10"})
VERIFY = reverse("accounts:mfa_verify")


def _state(world) -> str:
    with scope(organization=world.org("a")):
        return BillingPeriod.objects.get(period=OCT).state


@pytest.mark.parametrize(("before", "transition"), [(TO_IN_REVIEW, "approve"), (TO_CLOSED[:3], "close")])
def test_an_unverified_finance_admin_is_sent_to_the_verification_step(ready, before, transition):
    walk(ready, *before)
    state = _state(ready)
    client = ready.login("a", Role.FINANCE_ADMIN, second_factor=False)
    response = client.post(TRANSITION, {"transition": transition}, HTTP_REFERER=f"http://testserver{DETAIL}")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next={quote(f'http://testserver{DETAIL}', safe='')}"
    assert _state(ready) == state  # nothing happened
    page = client.get(response["Location"], follow=True)  # no authenticator yet: on to enrolment
    assert b'name="otp_token"' in page.content
    assert "Nothing was changed yet: confirm it is you, then do it again." in page.content.decode()


def test_reopen_needs_it_too_and_works_once_verified(ready):
    walk(ready, *TO_CLOSED)
    admin = ready.user("a", Role.FINANCE_ADMIN)
    client = ready.login("a", Role.FINANCE_ADMIN, second_factor=False)
    refused = client.post(TRANSITION, {"transition": "reopen", "reason": "credit note"})
    assert refused.status_code == 302 and refused["Location"].startswith(VERIFY)
    assert _state(ready) == "closed"
    pass_second_factor(client, admin)
    done = client.post(TRANSITION, {"transition": "reopen", "reason": "credit note"})
    assert done.status_code == 302 and done["Location"] == DETAIL
    assert _state(ready) == "open"


def test_a_verified_second_finance_admin_approves(ready):
    step(ready, "start_reconciliation")
    step(ready, "submit_for_review", actor=ready.user("a", Role.FINANCE_ADMIN))
    checker = second_finance_admin(ready)
    from django.test import Client

    client = Client()
    client.force_login(checker)
    assert client.post(TRANSITION, {"transition": "approve"})["Location"].startswith(VERIFY)
    pass_second_factor(client, checker)
    assert client.post(TRANSITION, {"transition": "approve"})["Location"] == DETAIL
    assert _state(ready) == "approved"


def test_an_override_needs_it_but_an_analysts_own_steps_do_not(ready):
    analyst = ready.login("a", Role.FINANCE_ANALYST)  # no second factor: preparing is not protected
    assert analyst.post(TRANSITION, {"transition": "start_reconciliation"})["Location"] == DETAIL
    admin = ready.login("a", Role.FINANCE_ADMIN, second_factor=False)
    response = admin.post(TRANSITION, {"transition": "submit_for_review", "override": "on", "reason": "known gap"})
    assert response["Location"].startswith(VERIFY)
    assert _state(ready) == "reconciling"


def test_an_analyst_is_still_refused_approval_by_role_not_asked_for_a_code(ready):
    walk(ready, *TO_IN_REVIEW)
    response = ready.login("a", Role.FINANCE_ANALYST, second_factor=False).post(TRANSITION, {"transition": "approve"})
    assert response.status_code == 403


def test_htmx_requests_are_redirected_by_header(ready):
    walk(ready, *TO_IN_REVIEW)
    client = ready.login("a", Role.FINANCE_ADMIN, second_factor=False)
    response = client.post(TRANSITION, {"transition": "approve"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)


def test_the_api_is_unaffected(ready):
    walk(ready, *TO_IN_REVIEW)
    # Tokens carry scopes, not sessions: no second factor applies (the token is the credential).
    response = ready.api("a").get("/api/v1/organization/")
    assert response.status_code == 200
