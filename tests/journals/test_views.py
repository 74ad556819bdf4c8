"""The journal pages: a period's journal (posting status counts, entries, why nothing is booked), the link
and the fact on the period page, the reopen warning, and the recovery-accounts settings (audited writes,
MANAGE_LEDGER)."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.journals.models import JournalEntry, RecoveryAccount
from apps.journals.services import journal_acknowledge
from apps.tenancy.roles import Role

from .conftest import approve_and_close, set_erp, set_recovery

pytestmark = pytest.mark.django_db

JOURNAL = reverse("journals:period", kwargs={"org_slug": "alpha", "period": "2026-10"})
PERIOD = reverse("periods:detail", kwargs={"org_slug": "alpha", "period": "2026-10"})
ACCOUNTS = reverse("journals:recovery_accounts", kwargs={"org_slug": "alpha"})


def post(world, entry, reference: str = "JE-1"):
    return journal_acknowledge(entry=entry, actor=world.user("a", Role.FINANCE_ADMIN), reference=reference)


def test_the_journal_page_shows_entries_and_posting_counts(world, closed, django_assert_max_num_queries):
    organization = world.org("a")
    with scope(organization=organization):
        search = JournalEntry.objects.get(owner_code="CC-1101")
    post(world, search, "JE-100234")
    client = world.login("a", Role.FINANCE_ANALYST)
    client.get(JOURNAL)  # warm the session and caches
    # 14 today, whatever the number of entries (their lines come in one query).
    with django_assert_max_num_queries(14):
        response = client.get(JOURNAL)
    assert response.status_code == 200
    assert response.context["counts"] == {"posted": 1, "pending": 2, "failed": 0}
    html = response.content.decode()
    for external_id in ("alpha-2026-10-CC-1101-v1", "alpha-2026-10-CC-1201-v1", "alpha-2026-10-CC-1401-v1"):
        assert f"<code>{external_id}</code>" in html
    assert "JE-100234" in html and "16.11" in html and "1990-US" in html
    assert response.context["missing"] == ""


def test_a_closed_period_without_accounts_says_why_then_books_on_the_next_visit(world, issued):
    organization = world.org("a")
    approve_and_close(world, issued)
    client = world.login("a", Role.FINANCE_ADMIN)
    response = client.get(JOURNAL)
    assert response.status_code == 200
    assert response.context["missing"] == (
        "Nothing of 2026-10 was booked to the journal: cost centres without a GL account: CC-1101, CC-1201, "
        "CC-1401; company codes without a recovery account (and no default one): (blank)."
    )
    assert "Nothing of 2026-10 was booked to the journal" in response.content.decode()
    set_erp(organization)
    set_recovery(organization)
    response = client.get(JOURNAL)
    assert response.context["just_booked"] and response.context["counts"]["pending"] == 3
    assert response.context["missing"] == ""


def test_an_open_period_has_an_empty_journal_and_a_month_without_a_period_is_404(world, ledger):
    client = world.login("a", Role.FINANCE_ANALYST)
    response = client.get(JOURNAL)
    assert response.status_code == 200
    assert "its statements are booked to the journal when it closes" in response.content.decode()
    assert client.get(reverse("journals:period", kwargs={"org_slug": "alpha", "period": "2026-03"})).status_code == 404
    assert world.login("a", Role.BUDGET_OWNER).get(JOURNAL).status_code == 403


def test_the_period_page_links_the_journal_shows_the_fact_and_warns_before_a_reopen(world, closed):
    organization = world.org("a")
    client = world.login("a", Role.FINANCE_ADMIN)
    response = client.get(PERIOD)
    html = response.content.decode()
    assert f'href="{JOURNAL}"' in html
    assert ("Journal", "3 pending") in response.context["facts"]
    assert response.context["warnings"] == []
    with scope(organization=organization):
        first, second = JournalEntry.objects.filter(owner_code__in=["CC-1101", "CC-1201"]).order_by("owner_code")
    post(world, first, "JE-1")
    post(world, second, "JE-2")
    response = client.get(PERIOD)
    assert ("Journal", "2 posted, 1 pending") in response.context["facts"]
    warning = (
        "2 journal entries of 2026-10 version 1 were posted in the ERP: closing version 2 books their "
        "reversal, and a reversal must be posted too."
    )
    assert response.context["warnings"] == [warning]
    assert warning in response.content.decode()


def test_recovery_accounts_are_added_changed_and_removed_with_audit_events(world):
    organization = world.org("a")
    client = world.login("a", Role.FINANCE_ADMIN)
    assert "No recovery account yet" in client.get(ACCOUNTS).content.decode()
    response = client.post(ACCOUNTS, {"company_code": "US01", "account": "1990-US", "description": "US clearing"})
    assert response.status_code == 302
    duplicate = client.post(ACCOUNTS, {"company_code": "US01", "account": "1991"})
    assert duplicate.status_code == 400
    assert "There is already a recovery account for US01." in duplicate.content.decode()
    with scope(organization=organization):
        account = RecoveryAccount.objects.get()
    edit = reverse("journals:recovery_account_edit", kwargs={"org_slug": "alpha", "pk": account.pk})
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"company_code": "US01", "account": "1995-US", "description": ""}).status_code == 302
    delete = reverse("journals:recovery_account_delete", kwargs={"org_slug": "alpha", "pk": account.pk})
    assert client.post(delete).status_code == 302
    with scope(organization=organization):
        assert not RecoveryAccount.objects.exists()
        events = list(AuditEvent.objects.filter(action__startswith="recovery_account.").order_by("seq"))
    assert [(e.action, e.before, e.after) for e in events] == [
        (
            "recovery_account.created",
            None,
            {"company_code": "US01", "account": "1990-US", "description": "US clearing"},
        ),
        (
            "recovery_account.updated",
            {"company_code": "US01", "account": "1990-US", "description": "US clearing"},
            {"company_code": "US01", "account": "1995-US", "description": ""},
        ),
        ("recovery_account.deleted", {"company_code": "US01", "account": "1995-US", "description": ""}, None),
    ]


def test_only_the_ledger_managers_change_recovery_accounts(world):
    set_recovery(world.org("a"))
    viewer = world.login("a", Role.VIEWER)
    page = viewer.get(ACCOUNTS)
    assert (
        page.status_code == 200
        and "1990-US" in page.content.decode()
        and "Add a recovery account" not in (page.content.decode())
    )
    assert viewer.post(ACCOUNTS, {"company_code": "X", "account": "1"}).status_code == 403
    with scope(organization=world.org("a")):
        account = RecoveryAccount.objects.get(company_code="US01")
    edit = reverse("journals:recovery_account_edit", kwargs={"org_slug": "alpha", "pk": account.pk})
    assert world.login("a", Role.FINANCE_ANALYST).post(edit, {"account": "2"}).status_code == 403
    assert world.login("a", Role.BUDGET_OWNER).get(ACCOUNTS).status_code == 403
    assert world.login("a", Role.ORG_ADMIN).get(edit).status_code == 200


def test_the_recovery_accounts_page_takes_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    set_recovery(world.org("a"))
    client = world.login("a", Role.FINANCE_ADMIN)
    client.get(ACCOUNTS)
    with django_assert_max_num_queries(10):
        response = client.get(ACCOUNTS)
    assert response.status_code == 200 and len(response.context["accounts"]) == 2
