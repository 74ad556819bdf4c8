"""The action inbox on the home page: what needs each member, by role, with a link to where it is dealt with;
never another organisation's periods, disputes or imports; a bounded number of queries."""

import datetime
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from apps.disputes.models import Dispute
from apps.periods.models import BillingPeriod
from apps.portal.inbox import SECTION_LIMIT, action_inbox
from apps.showback.models import Alert
from apps.tenancy.models import Organization
from apps.usage.models import IngestJob
from tests import scenarios
from tests.factories.disputes import DisputeFactory
from tests.factories.invoices import InvoiceIngestJobFactory
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.periods import BillingPeriodFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def _inbox(world, key: str, role: str, now=NOW):
    membership = world.memberships[(key, role)]
    return action_inbox(membership=membership, now=now)


def _section(inbox, key: str):
    return next((section for section in inbox.sections if section.key == key), None)


def _update(organization: Organization, **fields) -> None:
    Organization.objects.filter(pk=organization.pk).update(**fields)
    organization.refresh_from_db()


def _chargeback(organization: Organization) -> None:
    _update(organization, mode=Organization.Mode.CHARGEBACK)


def _titles(section) -> list[str]:
    return [item.title for item in section.items]


# --- which sections each role gets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        ("finance_admin", ["approve", "prepare", "disputes", "imports", "alerts"]),
        ("finance_analyst", ["prepare", "disputes", "imports", "alerts"]),
        ("budget_owner", ["disputes"]),  # owning no cost centre yet: no alert can be theirs
        ("viewer", ["alerts"]),
        ("org_admin", ["alerts"]),
    ],
)
def test_each_role_gets_the_sections_it_can_act_on(world, role, keys):
    inbox = _inbox(world, "a", role)
    assert [section.key for section in inbox.sections] == keys
    assert inbox.is_empty and inbox.total == 0


# --- periods ---------------------------------------------------------------------------------------------


def test_an_approver_sees_periods_in_review_and_approved_but_not_one_they_prepared(world):
    organization = world.org("a")
    _chargeback(organization)
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 9, 1), state="approved")
    october = BillingPeriodFactory(organization=organization, period=datetime.date(2026, 10, 1), state="in_review")
    mine = BillingPeriodFactory(organization=organization, period=datetime.date(2026, 8, 1), state="in_review")
    with scope(organization=organization):
        BillingPeriod.objects.filter(pk=mine.pk).update(prepared_by=world.user("a", "finance_admin"))
    section = _section(_inbox(world, "a", "finance_admin"), "approve")
    assert _titles(section) == ["Close 2026-09", "Approve 2026-10"]  # oldest first; 2026-08 is theirs
    assert section.total == 2
    assert [item.link for item in section.items] == ["/o/alpha/periods/2026-09/", "/o/alpha/periods/2026-10/"]
    # Periods close in order: September waits for August, still in review (the blocker the period page shows).
    assert [item.blocked for item in section.items] == [True, False]
    assert section.items[0].detail.startswith("2026-08 is in review: periods close in order, so close 2026-08 first")
    # the period page is where it is done, and it agrees: this member may approve October
    assert october.state == "in_review"


def test_an_open_dispute_shows_the_approval_as_blocked_with_the_guards_message(world):
    organization = world.org("a")
    issued = scenarios.issued(organization, world.user("a", "finance_analyst"))
    _chargeback(organization)
    DisputeFactory(statement=issued.statement("CC-1101"), opened_by=world.user("a", "budget_owner"))
    [item] = _section(_inbox(world, "a", "finance_admin"), "approve").items
    assert item.title == "Approve 2026-10" and item.blocked
    assert "dispute" in item.detail.lower()


def test_in_showback_nothing_waits_for_an_approver(world):
    BillingPeriodFactory(organization=world.org("a"), period=datetime.date(2026, 10, 1), state="in_review")
    section = _section(_inbox(world, "a", "finance_admin"), "approve")
    assert section.items == [] and section.total == 0


def test_a_preparer_sees_ended_periods_still_open_or_reconciling(world):
    organization = world.org("a")
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 9, 1), state="reconciling")
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 10, 1))  # open, ended
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 8, 1), state="in_review")
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 12, 1))  # not ended yet
    section = _section(_inbox(world, "a", "finance_analyst"), "prepare")
    assert _titles(section) == ["Submit for review: 2026-09", "Start reconciliation: 2026-10"]
    assert section.total == 2
    assert section.items[1].link == "/o/alpha/periods/2026-10/"


def test_a_period_starting_on_another_day_waits_until_its_own_end(world):
    organization = world.org("a")
    _update(organization, period_start_day=10)
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 11, 1))  # 10 Nov – 9 Dec
    BillingPeriodFactory(organization=organization, period=datetime.date(2026, 10, 1))  # 10 Oct – 9 Nov
    assert _titles(_section(_inbox(world, "a", "finance_analyst"), "prepare")) == ["Start reconciliation: 2026-10"]


# --- disputes --------------------------------------------------------------------------------------------


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October issued in org "a"; the budget-owner member owns CC-1101 (Search)."""
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def _dispute(world, statement, opened_at, **extra) -> Dispute:
    dispute = DisputeFactory(statement=statement, opened_by=world.user("a", "budget_owner"), **extra)
    with scope(organization=statement.organization_id):
        Dispute.objects.filter(pk=dispute.pk).update(opened_at=opened_at)
    return dispute


def test_disputes_show_their_deadline_and_the_ones_past_it(world, issued):
    search, ads = issued.statement("CC-1101"), issued.statement("CC-1201")
    late = _dispute(world, search, datetime.datetime(2026, 11, 20, 9, tzinfo=UTC))  # due 30 Nov
    today = _dispute(world, ads, datetime.datetime(2026, 11, 27, 23, tzinfo=UTC))  # due 7 Dec
    fresh = _dispute(world, search, datetime.datetime(2026, 12, 6, 8, tzinfo=UTC))  # due 16 Dec
    with scope(organization=issued.organization):
        DisputeFactory(
            statement=ads,
            opened_by=world.user("a", "budget_owner"),
            status="rejected",
            resolution_note="No.",
            resolved_by=world.user("a", "finance_admin"),
            resolved_at=NOW,
        )
    section = _section(_inbox(world, "a", "finance_analyst"), "disputes")
    assert section.heading == "Disputes waiting for your answer"
    assert [item.link for item in section.items] == [f"/o/alpha/disputes/{d.pk}/" for d in (late, today, fresh)]
    assert [item.due_text for item in section.items] == ["7 days overdue", "due today", "due in 9 days"]
    assert [item.due for item in section.items] == [
        datetime.date(2026, 11, 30),
        datetime.date(2026, 12, 7),
        datetime.date(2026, 12, 16),
    ]
    assert section.total == 3 and section.note == "1 past the 10-day response window"
    assert section.items[0].title == f"Dispute #{late.pk} on 2026-10-CC-1101-v1"
    assert section.items[0].detail == "1.00 USD, opened 2026-11-20."

    # a longer response window moves every deadline
    _update(world.org("a"), dispute_response_days=20)
    section = _section(_inbox(world, "a", "finance_analyst"), "disputes")
    assert [item.due_text for item in section.items] == ["due in 3 days", "due in 10 days", "due in 19 days"]
    assert section.note == ""


def test_a_budget_owner_sees_the_open_disputes_of_their_own_cost_centres_only(world, issued):
    mine = _dispute(world, issued.statement("CC-1101"), datetime.datetime(2026, 12, 1, tzinfo=UTC))
    _dispute(world, issued.statement("CC-1201"), datetime.datetime(2026, 12, 1, tzinfo=UTC))  # ads: not theirs
    section = _section(_inbox(world, "a", "budget_owner"), "disputes")
    assert section.heading == "Your open disputes (waiting for finance)"
    assert [item.link for item in section.items] == [f"/o/alpha/disputes/{mine.pk}/"]
    assert section.total == 1
    assert _section(_inbox(world, "a", "finance_admin"), "disputes").total == 2


# --- imports ---------------------------------------------------------------------------------------------


def _usage_job(organization, *, status, created_at, sha="a" * 64, file_name="usage.jsonl", channel="upload"):
    with scope(organization=organization):
        job = IngestJob.objects.create(
            organization=organization,
            channel=channel,
            format="jsonl",
            file_name=file_name,
            sha256=sha,
            payload="none.bin",
            status=status,
            error_message="Line 3: no model.\nLine 9: no model.",
        )
        IngestJob.objects.filter(pk=job.pk).update(created_at=created_at)
    return job


def _invoice_job(organization, *, status, created_at, sha="b" * 64, file_name="invoice.csv"):
    with scope(organization=organization):
        job = InvoiceIngestJobFactory(
            organization=organization, status=status, sha256=sha, file_name=file_name, channel="upload"
        )
        type(job).objects.filter(pk=job.pk).update(created_at=created_at)
    return job


def test_failed_imports_of_the_last_30_days_not_put_right_since(world):
    organization = world.org("a")
    day = datetime.timedelta(days=1)
    failed = _usage_job(organization, status="failed", created_at=NOW - 2 * day)
    interrupted = _usage_job(
        organization, status="interrupted", created_at=NOW - 3 * day, sha="c" * 64, file_name="b.jsonl"
    )
    refused = _invoice_job(organization, status="refused", created_at=NOW - 1 * day)
    # settled: the same bytes imported again successfully later; a fixed file uploaded under the same name
    redone = _usage_job(organization, status="failed", created_at=NOW - 5 * day, sha="d" * 64, file_name="d.jsonl")
    _usage_job(organization, status="succeeded", created_at=NOW - 4 * day, sha="d" * 64, file_name="again.jsonl")
    fixed = _invoice_job(organization, status="refused", created_at=NOW - 6 * day, sha="e" * 64, file_name="bill.csv")
    _invoice_job(organization, status="succeeded", created_at=NOW - 5 * day, sha="f" * 64, file_name="bill.csv")
    # history: older than 30 days; and a job retried to success is no longer failed
    _usage_job(organization, status="failed", created_at=NOW - 31 * day, sha="9" * 64, file_name="old.jsonl")
    section = _section(_inbox(world, "a", "finance_analyst"), "imports")
    assert [item.link for item in section.items] == [
        f"/o/alpha/invoices/imports/{refused.pk}/",
        f"/o/alpha/usage/imports/{failed.pk}/",
        f"/o/alpha/usage/imports/{interrupted.pk}/",
    ]
    assert section.total == 3
    assert section.items[1].title == f"Usage import #{failed.pk}: usage.jsonl"
    assert section.items[1].detail == "Failed on 2026-12-05. Line 3: no model."
    assert redone.pk and fixed.pk  # made, and settled
    assert _section(_inbox(world, "a", "budget_owner"), "imports") is None


# --- alerts ---------------------------------------------------------------------------------------------


def _alert(organization, key: str, *, owner=None, acknowledged: bool = False, fired_at=NOW) -> Alert:
    with scope(organization=organization):
        alert = Alert.objects.create(
            organization=organization,
            kind=Alert.Kind.BUDGET if owner else Alert.Kind.SPIKE,
            key=key,
            period=datetime.date(2026, 12, 1),
            owner=owner,
            title=f"Alert {key}",
            link=f"/o/{organization.slug}/cost-centres/" if owner else "",
            acknowledged_at=NOW if acknowledged else None,
        )
        Alert.objects.filter(pk=alert.pk).update(fired_at=fired_at)
    return alert


def test_unacknowledged_alerts_for_finance_and_those_of_their_cost_centres_for_an_owner(world):
    organization = world.org("a")
    with scope(organization=organization):
        search = BudgetOwnerFactory(
            organization=organization, code="CC-1", owner_users=[world.user("a", "budget_owner")]
        )
        labs = BudgetOwnerFactory(organization=organization, code="CC-3", parent=search)
        ads = BudgetOwnerFactory(organization=organization, code="CC-2")
    _alert(organization, "threshold:1", owner=search, fired_at=NOW - datetime.timedelta(hours=3))
    _alert(organization, "threshold:2", owner=labs, fired_at=NOW - datetime.timedelta(hours=2))
    _alert(organization, "threshold:3", owner=ads, fired_at=NOW - datetime.timedelta(hours=1))
    _alert(organization, "model:gpt-4o", fired_at=NOW)
    _alert(organization, "threshold:4", owner=search, acknowledged=True)
    finance = _section(_inbox(world, "a", "finance_analyst"), "alerts")
    assert _titles(finance) == ["Alert model:gpt-4o", "Alert threshold:3", "Alert threshold:2", "Alert threshold:1"]
    assert finance.total == 4
    assert finance.items[0].link == "/o/alpha/usage/"  # no page of its own: the explorer
    assert finance.items[1].link == "/o/alpha/cost-centres/"
    assert finance.items[0].detail == "Spend spike, 2026-12-07 16:00 UTC."
    owner = _section(_inbox(world, "a", "budget_owner"), "alerts")
    assert _titles(owner) == ["Alert threshold:2", "Alert threshold:1"]  # their subtree: CC-1 and CC-3
    assert _section(_inbox(world, "a", "viewer"), "alerts").total == 4


# --- the tenant boundary ---------------------------------------------------------------------------------


def test_another_organisations_periods_disputes_and_imports_never_appear(world):
    beta = world.org("b")
    _chargeback(beta)
    _chargeback(world.org("a"))
    BillingPeriodFactory(organization=beta, period=datetime.date(2026, 10, 1), state="in_review")
    BillingPeriodFactory(organization=beta, period=datetime.date(2026, 9, 1))
    beta_issued = scenarios.issued(
        beta,
        world.user("b", "finance_analyst"),
        period=datetime.date(2026, 8, 1),
        owner_user=world.user("b", "budget_owner"),
    )
    DisputeFactory(statement=beta_issued.statement("CC-1101"), opened_by=world.user("b", "budget_owner"))
    _usage_job(beta, status="failed", created_at=NOW)
    _invoice_job(beta, status="failed", created_at=NOW)
    _alert(beta, "model:gpt-4o")
    with scope(organization=beta):
        owner = BudgetOwnerFactory(organization=beta, code="CC-1")
    _alert(beta, "threshold:1", owner=owner)
    for role in ("finance_admin", "finance_analyst", "budget_owner", "viewer"):
        inbox = _inbox(world, "a", role)
        assert inbox.is_empty, role
    beta_inbox = _inbox(world, "b", "finance_admin")
    assert beta_inbox.total > 0
    assert all(item.link.startswith("/o/beta/") for section in beta_inbox.sections for item in section.items)


# --- queries ---------------------------------------------------------------------------------------------


def test_the_inbox_reads_a_bounded_number_of_rows_however_much_is_waiting(world, issued):
    organization = world.org("a")
    _chargeback(organization)
    for month in range(1, 10):
        BillingPeriodFactory(organization=organization, period=datetime.date(2025, month, 1), state="in_review")
    for _ in range(SECTION_LIMIT + 5):
        _dispute(world, issued.statement("CC-1101"), datetime.datetime(2026, 11, 1, tzinfo=UTC))
    for n in range(SECTION_LIMIT + 5):
        _usage_job(organization, status="failed", created_at=NOW, sha=f"{n:064d}")
        _invoice_job(organization, status="failed", created_at=NOW, sha=f"{n:064d}")
    membership = world.memberships[("a", "finance_admin")]
    with CaptureQueriesContext(connection) as queries:
        inbox = action_inbox(membership=membership, now=NOW)
    disputes = _section(inbox, "disputes")
    assert disputes.total == SECTION_LIMIT + 5 and len(disputes.items) == SECTION_LIMIT and disputes.more == 5
    imports = _section(inbox, "imports")
    assert imports.total == 2 * (SECTION_LIMIT + 5) and len(imports.items) == SECTION_LIMIT
    approve = _section(inbox, "approve")
    assert approve.total == 10 and len(approve.items) == 10  # nine of 2025 and October 2026
    # 32 on both databases: two per period checked (the member, the open-disputes guard), a few per section
    assert len(queries) <= 35, [q["sql"] for q in queries]
