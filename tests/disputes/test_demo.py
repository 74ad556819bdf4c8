import io

import pytest
from django_scopes import scope

from apps.disputes.demo import seed_demo
from apps.disputes.models import Dispute
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from tests import scenarios
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.periods import billing_period_of, set_state

pytestmark = pytest.mark.django_db


def acme_with_people():
    acme = OrganizationFactory(slug="acme", name="Acme Corporation")
    with scope(organization=acme):
        for username, role in (("acme-owner", "budget_owner"), ("acme-analyst", "finance_analyst")):
            MembershipFactory(organization=acme, user=UserFactory(username=username), role=role)
    return acme


def put_search_under_cc_1100(acme):
    with scope(organization=acme):
        parent = BudgetOwner.objects.create(organization=acme, code="CC-1100", name="Search & Discovery")
        BudgetOwner.objects.filter(code="CC-1101").update(parent=parent)
        parent.owner_users.add(UserFactory(username="acme-owner"))


def test_the_demo_disputes_a_statement_in_review_once(django_capture_on_commit_callbacks):
    acme = acme_with_people()
    issued = scenarios.issued(acme)
    put_search_under_cc_1100(acme)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo(organization=acme, stdout=out)
    seed_demo(organization=acme, stdout=out)
    with scope(organization=acme):
        dispute = Dispute.objects.get()
        comments = list(dispute.comments.values_list("author_label", flat=True))
    # a quarter of the largest direct line (10.01), rounded down to the cent
    assert (dispute.status, dispute.amount_nano, dispute.line.position) == ("open", 2_500_000_000, 1)
    assert dispute.evidence_url == "https://tickets.acme.example/SRCH-2291"
    assert dispute.statement == issued.statement("CC-1101")
    assert dispute.opened_by.username == "acme-owner"
    assert comments == ["acme-analyst"]
    assert "acme: acme-owner disputes 2.50 USD of line 1 of 2026-10-CC-1101-v1" in out.getvalue()
    assert "acme: 2026-10 already has the demo dispute" in out.getvalue()


def test_without_a_period_in_review_the_demo_says_why_and_does_nothing():
    acme = acme_with_people()
    run = scenarios.allocated(acme, month=scenarios.SHARED).run
    set_state(billing_period_of(run), BillingPeriod.State.RECONCILING)
    out = io.StringIO()
    seed_demo(organization=acme, stdout=out)
    assert "acme: no period is in review yet, so there is no draft statement to dispute" in out.getvalue()
    with scope(organization=acme):
        assert not Dispute.objects.exists()


def test_other_organisations_get_no_dispute():
    out = io.StringIO()
    seed_demo(organization=OrganizationFactory(slug="globex"), stdout=out)
    assert out.getvalue() == "  globex: no disputes in the demo"
