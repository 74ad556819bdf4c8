"""The booking rule, on real closes: one balanced charge per final statement, a full reversal of every
earlier charge when a reopened period closes again, nothing booked twice, and nothing at all (with the
reason) when an account is missing."""

import datetime
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.allocation.runs.services import allocation_run_create
from apps.disputes.services import dispute_accept
from apps.journals.models import JournalEntry
from apps.journals.services import journal_book, journal_book_if_due
from apps.periods.models import BillingPeriod
from apps.periods.services import period_transition
from apps.statements.models import Statement
from apps.statements.services import statements_issue
from apps.webhooks.models import Event
from tests import scenarios
from tests.factories.invoices import InvoiceLineFactory
from tests.factories.periods import set_state

from .conftest import approve_and_close, set_erp, set_recovery

pytestmark = pytest.mark.django_db

ORG = "a"


def entries(organization, **filters) -> list[JournalEntry]:
    with scope(organization=organization):
        return list(JournalEntry.objects.filter(**filters).prefetch_related("lines").order_by("pk"))


def finals(organization, version: int = 1) -> list[Statement]:
    with scope(organization=organization):
        return list(
            Statement.objects.filter(version=version, status="final").select_related("owner").order_by("owner_code")
        )


def lines_of(entry) -> list[tuple]:
    return [(ln.account, ln.debit, ln.credit, ln.cost_centre, ln.company_code) for ln in entry.lines.all()]


def assert_balanced(entry) -> None:
    lines = list(entry.lines.all())
    assert sum(ln.debit for ln in lines) == sum(ln.credit for ln in lines) == entry.total_amount
    assert sum(ln.debit_nano for ln in lines) == sum(ln.credit_nano for ln in lines) == entry.total_nano
    for line in lines:
        assert line.debit == 0 or line.credit == 0
        assert line.debit == line.debit.quantize(Decimal("0.01")) and line.credit == line.credit.quantize(
            Decimal("0.01")
        )


def reopen_and_close_again(world, issued, *, extra_invoice_nano: int = 0) -> BillingPeriod:
    """Reopen (the real transition), allocate again (optionally with a bigger openai invoice), issue version
    2, approve and close it (the real close)."""
    organization = issued.organization
    period_transition(
        organization=organization,
        period=scenarios.OCT,
        transition="reopen",
        actor=world.user(ORG, "finance_admin"),
        reason="The openai invoice was corrected.",
    )
    if extra_invoice_nano:
        with scope(organization=organization):
            from apps.invoices.models import ProviderInvoice

            invoice = ProviderInvoice.objects.get(provider="openai", billing_period=scenarios.OCT)
            InvoiceLineFactory(invoice=invoice, amount_nano=extra_invoice_nano, cost_source="output")
    allocation_run_create(organization=organization, period=scenarios.OCT, actor=None)
    billing_period = set_state(issued.refresh_period(), BillingPeriod.State.IN_REVIEW)
    statements_issue(billing_period=billing_period, actor=None, reason="")
    return approve_and_close(world, issued)


def test_close_books_one_balanced_charge_per_final_statement(world, closed):
    organization = world.org(ORG)
    charges = entries(organization)
    statements = finals(organization)
    # The drafts of scenarios.SHARED, now final: 16.11 + 4.55 + 0.35.
    assert [(s.owner_code, s.total_amount) for s in statements] == [
        ("CC-1101", Decimal("16.110")),
        ("CC-1201", Decimal("4.550")),
        ("CC-1401", Decimal("0.350")),
    ]
    assert [e.external_id for e in charges] == [
        "alpha-2026-10-CC-1101-v1",
        "alpha-2026-10-CC-1201-v1",
        "alpha-2026-10-CC-1401-v1",
    ]
    for entry, statement in zip(charges, statements, strict=True):
        assert_balanced(entry)
        assert (entry.kind, entry.version, entry.statement_id, entry.reverses_id) == ("charge", 1, statement.pk, None)
        assert entry.total_amount == statement.total_amount and entry.total_nano == statement.total_nano
        assert entry.document_ref == f"CB{entry.pk}" and len(entry.document_ref) <= 16
        assert entry.header_text == "AI chargeback 2026-10 v1"
        assert entry.posting_date == datetime.date(2026, 10, 31)
        assert entry.currency == "USD" and entry.posting_status == "pending"
        # One debit line per non-zero section on the cost centre's GL account, the footed section amounts.
        sections = [(s, statement.section_amount(s)) for s in ("direct", "shared", "true_up", "adjustment")]
        expected = [
            (statement.owner.gl_account, amount, Decimal(0), statement.owner_code, statement.owner.company_code)
            for _section, amount in sections
            if amount
        ]
        recovery = "1990-US" if statement.owner.company_code == "US01" else "1990"
        expected.append((recovery, Decimal(0), statement.total_amount, "", statement.owner.company_code))
        assert lines_of(entry) == expected
    # The sum of the charges is the final statements' total, to the cent and to the nano-unit.
    assert sum(e.total_amount for e in charges) == sum(s.total_amount for s in statements) == Decimal("21.010")
    assert sum(e.total_nano for e in charges) == sum(s.total_nano for s in statements)
    search = charges[0]
    first = search.lines.all()[0]
    assert (first.department, first.erp_class, first.location) == ("Search", "AI", "NYC")
    assert search.company_code == "US01" and charges[1].company_code == "DE01"
    with scope(organization=organization):
        [event] = Event.objects.filter(type="journal.ready")
    assert (event.object_type, event.object_id, event.api_path) == (
        "journal",
        "2026-10",
        "/api/v1/journal-entries/?period=2026-10",
    )
    assert event.data == {"period": "2026-10", "version": 1, "entries": 3, "reversals": 0, "total": "21.01"}


def test_booking_again_books_nothing(world, closed):
    organization = world.org(ORG)
    before = [(e.pk, e.updated_at) for e in entries(organization)]
    billing_period = closed.refresh_period()
    booking = journal_book(organization=organization, billing_period=billing_period)
    assert not booking.booked and not booking.blocked
    assert booking.reason == "Everything of 2026-10 version 1 is booked."
    assert journal_book_if_due(organization=organization, billing_period=billing_period) is None
    assert [(e.pk, e.updated_at) for e in entries(organization)] == before
    with scope(organization=organization):
        assert Event.objects.filter(type="journal.ready").count() == 1


def test_a_reclose_reverses_every_charge_in_full_then_books_version_2(world, closed):
    organization = world.org(ORG)
    v1 = {e.owner_code: e for e in entries(organization, version=1, kind="charge")}
    reopen_and_close_again(world, closed, extra_invoice_nano=2_000_000_000)
    reversals = entries(organization, kind="reversal")
    assert [r.external_id for r in reversals] == [f"{c.external_id}-rev" for c in v1.values()]
    for reversal in reversals:
        charge = v1[reversal.owner_code]
        assert_balanced(reversal)
        assert (reversal.reverses_id, reversal.statement_id, reversal.version) == (charge.pk, charge.statement_id, 1)
        assert reversal.total_amount == charge.total_amount
        # The mirror: every line of the charge with its debit and credit swapped.
        assert [(ln.account, ln.debit, ln.credit, ln.cost_centre) for ln in reversal.lines.all()] == [
            (ln.account, ln.credit, ln.debit, ln.cost_centre) for ln in charge.lines.all()
        ]
    v2 = entries(organization, version=2)
    statements = finals(organization, version=2)
    assert [e.external_id for e in v2] == [f"alpha-2026-10-{s.owner_code}-v2" for s in statements]
    for entry in v2:
        assert_balanced(entry)
    # Version 2 charges the extra 2.00 of the invoice: 20.008 allocated + a 3.00 true-up = 23.008 exactly,
    # each statement footed to the cent (23.00 in all); the journal nets to the statements' total.
    assert sum(s.total_nano for s in statements) == 23_008_000_000
    assert sum(s.total_amount for s in statements) == Decimal("23.000")
    assert sum(e.total_amount for e in v2) == Decimal("23.000")
    net = sum(e.total_amount for e in entries(organization, kind="charge")) - sum(r.total_amount for r in reversals)
    assert net == Decimal("23.000")
    with scope(organization=organization):
        ready = list(Event.objects.filter(type="journal.ready").order_by("seq").values_list("data", flat=True))
    assert ready[1] == {"period": "2026-10", "version": 2, "entries": 3, "reversals": 3, "total": "23.00"}
    # Booking again reverses and books nothing more.
    assert not journal_book(organization=organization, billing_period=closed.refresh_period()).booked
    assert len(entries(organization)) == 9


def test_a_negative_section_goes_to_the_credit_side(world, ledger):
    organization = world.org(ORG)
    dispute = scenarios.open_dispute(world, ledger, "4.00")
    with scope(organization=organization):
        ads = ledger.owners["CC-1201"]
    dispute_accept(dispute=dispute, actor=world.user(ORG, "finance_admin"), amount=Decimal("4.00"), recharge_owner=ads)
    approve_and_close(world, ledger)
    search, ads_entry, _finance = entries(organization)
    statement = finals(organization)[0]
    assert statement.adjustment_amount == Decimal("-4.000") and statement.total_amount == Decimal("12.110")
    assert_balanced(search)
    assert ("6420", Decimal(0), Decimal("4.000"), "CC-1101", "US01") in lines_of(search)
    assert lines_of(search)[-1] == ("1990-US", Decimal(0), Decimal("12.110"), "", "US01")
    # The debits: the positive sections (16.11); the credits: the dispute credit and the recovery.
    assert search.total_amount == Decimal("16.110")
    assert ("6430", Decimal("4.000"), Decimal(0), "CC-1201", "DE01") in lines_of(ads_entry)


def test_missing_accounts_book_nothing_and_say_which(world, issued):
    organization = world.org(ORG)
    set_erp(organization, skip_gl=("CC-1401",))
    set_recovery(organization, default=False)  # DE01 (CC-1201) has no account and there is no default
    billing_period = approve_and_close(world, issued)
    assert billing_period.state == "closed" and len(finals(organization)) == 3
    assert entries(organization) == []
    booking = journal_book(organization=organization, billing_period=billing_period)
    assert not booking.booked
    assert booking.reason == (
        "Nothing of 2026-10 was booked to the journal: cost centres without a GL account: CC-1401; "
        "company codes without a recovery account (and no default one): DE01."
    )
    with scope(organization=organization):
        assert not Event.objects.filter(type="journal.ready").exists()
    # Once the accounts are there, the first request books it.
    set_erp(organization)
    set_recovery_default(organization)
    booking = journal_book_if_due(organization=organization, billing_period=billing_period)
    assert booking.booked and len(booking.charges) == 3
    assert sum(e.total_amount for e in entries(organization)) == Decimal("21.010")


def set_recovery_default(organization) -> None:
    from apps.journals.models import RecoveryAccount

    with scope(organization=organization):
        RecoveryAccount.objects.create(organization=organization, company_code="", account="1990")


def test_a_period_that_is_not_closed_is_not_booked(world, ledger):
    organization = world.org(ORG)
    booking = journal_book(organization=organization, billing_period=ledger.refresh_period())
    assert not booking.booked and booking.reason == "2026-10 is not closed: its statements are booked when it closes."
    assert entries(organization) == []
