"""The whole workflow of issue 7 through the portal, as its users do it:

open → reconcile (within tolerance) → review → a budget owner disputes → finance comments and accepts →
the preparer's own approval is refused → a second finance admin approves → close (statements final) →
reopen with a reason → a late invoice puts the month outside tolerance → re-allocate → submit refused,
then submitted with an override → version 2 supersedes version 1 with the difference → approve → close.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.allocation.runs.services import allocation_run_create
from apps.audit.models import AuditEvent
from apps.disputes.models import Dispute
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.reconciliation.services import reconciliation_run_create
from apps.statements.models import Statement
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.mfa import pass_second_factor
from tests.scenarios import SHARED, allocated

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)


def transition(client, name: str, **data):
    url = reverse("periods:transition", kwargs={"org_slug": "alpha", "period": "2026-10"})
    return client.post(url, {"transition": name, **data})


def period_of(organization) -> BillingPeriod:
    with scope(organization=organization):
        return BillingPeriod.objects.get(period=OCT)


def statements(organization, version: int) -> dict[str, Statement]:
    with scope(organization=organization):
        return {s.owner.code: s for s in Statement.objects.filter(version=version).select_related("owner")}


def test_a_period_goes_from_open_to_a_second_closed_version(world, django_capture_on_commit_callbacks):
    organization = world.org("a")
    Organization.objects.filter(pk=organization.pk).update(mode=Organization.Mode.CHARGEBACK)
    analyst = world.login("a", Role.FINANCE_ANALYST)
    maker = world.login("a", Role.FINANCE_ADMIN)
    checker_user = UserFactory(username="alpha-finance_admin2")
    with scope(organization=organization):
        MembershipFactory(organization=organization, user=checker_user, role=Role.FINANCE_ADMIN)
    checker = Client()
    checker.force_login(checker_user)
    pass_second_factor(checker, checker_user)
    owner_user = world.user("a", Role.BUDGET_OWNER)
    owner = world.login("a", Role.BUDGET_OWNER)

    # The month's usage is allocated and reconciled: openai estimated 20.508, invoiced 21.508 (+4.65%).
    owners = allocated(organization, month=SHARED).owners
    with scope(organization=organization):
        owners["CC-1101"].owner_users.add(owner_user)
    reconciliation_run_create(organization=organization, period=OCT, actor=None)

    # open → reconciling → in_review, prepared by the first finance admin (no override needed).
    assert transition(analyst, "start_reconciliation").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert transition(maker, "submit_for_review").status_code == 302
    assert period_of(organization).state == "in_review"
    v1 = statements(organization, 1)
    assert sorted(v1) == ["CC-1101", "CC-1201", "CC-1401"]
    # The invoice (21.508) less what no rule claims (0.500 untagged) is charged, to the nano-unit.
    assert sum(s.total_nano for s in v1.values()) == 21_008_000_000
    assert v1["CC-1101"].status == "draft"
    search_v1_total = v1["CC-1101"].total_amount
    assert any("Statements for 2026-10 issued (version 1)" in m.subject for m in mail.outbox)

    # The budget owner disputes 4.00 of their statement; finance is told.
    mail.outbox.clear()
    dispute_url = reverse("disputes:create", kwargs={"org_slug": "alpha", "pk": v1["CC-1101"].pk})
    with django_capture_on_commit_callbacks(execute=True):
        opened = owner.post(dispute_url, {"amount": "4.00", "reason": "The chat feature was ads' experiment."})
    assert opened.status_code == 302
    with scope(organization=organization):
        dispute = Dispute.objects.get()
    assert dispute.status == "open"
    assert [m.subject for m in mail.outbox] == [
        f"[Alpha Corp] Dispute #{dispute.pk} opened on {v1['CC-1101'].reference}"
    ]

    # Approval is blocked while the dispute is open.
    blocked = transition(checker, "approve")
    assert blocked.status_code == 400
    assert "1 dispute is still open: resolve it before approving." in blocked.context["errors"]

    # Finance discusses and accepts: 4.00 credited to CC-1101 and charged to CC-1201.
    detail = {"org_slug": "alpha", "pk": dispute.pk}
    assert analyst.post(reverse("disputes:comment", kwargs=detail), {"body": "Checked the tags."}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        accepted = maker.post(
            reverse("disputes:accept", kwargs=detail),
            {"amount": "4.00", "recharge_owner": owners["CC-1201"].pk, "note": "Agreed with ads."},
        )
    assert accepted.status_code == 302
    rebuilt = statements(organization, 1)
    assert rebuilt["CC-1101"].total_amount == search_v1_total - Decimal("4.00")
    assert rebuilt["CC-1101"].adjustment_amount == Decimal("-4.00")
    assert rebuilt["CC-1201"].adjustment_amount == Decimal("4.00")
    assert sum(s.total_nano for s in rebuilt.values()) == 21_008_000_000
    assert any(f"Dispute #{dispute.pk} accepted" in m.subject for m in mail.outbox)

    # Maker-checker: the preparer may not approve; the second finance admin may.
    own = transition(maker, "approve")
    assert own.status_code == 403
    assert period_of(organization).state == "in_review"
    assert transition(checker, "approve").status_code == 302
    assert transition(checker, "close").status_code == 302
    assert period_of(organization).state == "closed"
    final = statements(organization, 1)
    assert {s.status for s in final.values()} == {"final"}

    # A final statement resists the ORM and raw SQL.
    with scope(organization=organization):
        statement = Statement.objects.get(pk=final["CC-1101"].pk)
    statement.total_amount = Decimal("0.00")
    with pytest.raises(Exception, match="final"):
        statement.save()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE statements_statement SET total_nano = 0 WHERE id = %s", [statement.pk])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM statements_statement WHERE id = %s", [statement.pk])

    # Reopen needs a reason; then it is open again as version 2.
    assert transition(checker, "reopen").status_code == 400
    assert transition(checker, "reopen", reason="Late anthropic invoice").status_code == 302
    reopened = period_of(organization)
    assert (reopened.state, reopened.version) == ("open", 2)

    # A late invoice line (+2.00) puts openai outside tolerance; the month is reconciled and allocated again.
    with scope(organization=organization):
        invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=OCT)
        InvoiceLineFactory(invoice=invoice, amount_nano=2 * 10**9)
    reconciliation_run_create(organization=organization, period=OCT, actor=None)
    allocation_run_create(organization=organization, period=OCT, actor=None)
    assert transition(analyst, "start_reconciliation").status_code == 302
    refused = transition(maker, "submit_for_review")
    assert refused.status_code == 400
    assert any("outside the 5% tolerance for openai" in message for message in refused.context["errors"])
    with django_capture_on_commit_callbacks(execute=True):
        overridden = transition(maker, "submit_for_review", override="on", reason="Credit note agreed with openai")
    assert overridden.status_code == 302
    assert period_of(organization).override_reason == "Credit note agreed with openai"

    # Version 2 supersedes version 1: the +2.00 true-up is spread, the accepted adjustment is still there.
    v2 = statements(organization, 2)
    assert sum(s.total_nano for s in v2.values()) == 23_008_000_000
    assert v2["CC-1101"].supersedes_id == final["CC-1101"].pk
    assert v2["CC-1101"].adjustment_amount == Decimal("-4.00")
    assert v2["CC-1101"].total_amount > final["CC-1101"].total_amount
    page = owner.get(reverse("statements:detail", kwargs={"org_slug": "alpha", "pk": v2["CC-1101"].pk}))
    assert page.status_code == 200
    # v1 12.11 → v2 13.64: the share of the +2.00 true-up grows from 0.77 to 2.30.
    assert (final["CC-1101"].total_amount, v2["CC-1101"].total_amount) == (Decimal("12.11"), Decimal("13.64"))
    html = page.content.decode()
    assert '<th class="num">12.11</th><th class="num">13.64</th><th class="num">+1.53</th>' in html
    assert '<td class="num">0.77</td><td class="num">2.30</td><td class="num">+1.53</td>' in html

    assert transition(checker, "approve").status_code == 302
    assert transition(checker, "close").status_code == 302
    assert {s.status for s in statements(organization, 2).values()} == {"final"}
    assert statements(organization, 1)["CC-1101"].total_amount == final["CC-1101"].total_amount  # untouched

    # Exactly one audit event per transition, in order, and the timeline shows them.
    with scope(organization=organization):
        actions = list(
            AuditEvent.objects.filter(action__startswith="billing_period.")
            .exclude(action="billing_period.late_data")
            .order_by("seq")
            .values_list("action", flat=True)
        )
    steps = ["start_reconciliation", "submit_for_review", "approve", "close"]
    assert actions == [f"billing_period.{name}" for name in [*steps, "reopen", *steps]]
    timeline = maker.get(reverse("periods:timeline", kwargs={"org_slug": "alpha", "period": "2026-10"}))
    assert timeline.status_code == 200
    assert "Late anthropic invoice" in timeline.content.decode()
    with scope(organization=organization):
        assert BudgetOwner.objects.get(code="CC-1101").statements.count() == 2
