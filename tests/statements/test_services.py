"""Building statements from an allocation run: sections, footing, versions, and the period hooks."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.allocation.models import AllocationRun
from apps.allocation.runs import allocation_run_create
from apps.audit.models import AuditEvent
from apps.periods import hooks
from apps.periods.models import BillingPeriod
from apps.statements.models import Section, Statement, StatementLine, section_for
from apps.statements.selectors import statement_difference
from apps.statements.services import (
    guard_period_has_draft_allocation,
    statements_finalise,
    statements_issue,
)
from tests.factories.invoices import InvoiceLineFactory
from tests.factories.statements import OCT, billing_period_of, october_allocated, set_state

from .conftest import issue_october

pytestmark = pytest.mark.django_db


def lines_of(statement: Statement) -> list[tuple]:
    with scope(organization=statement.organization_id):
        return list(
            statement.lines.order_by("position").values_list(
                "position", "section", "feature", "model", "cost_source", "method", "amount_nano", "amount"
            )
        )


def test_the_hooks_are_registered_on_the_period_transitions():
    assert guard_period_has_draft_allocation in hooks.guards_for("submit_for_review")
    assert statements_issue in hooks.effects_for("submit_for_review")
    assert statements_finalise in hooks.effects_for("close")


def test_entering_review_issues_one_draft_per_owner_with_a_charge(issued):
    with scope(organization=issued.organization):
        statements = list(Statement.objects.order_by("owner_code"))
        run = AllocationRun.objects.get(pk=issued.run.pk)
    # CC-1301 (Platform) and CC-1901 have no charge, so no statement; Unallocated is on nobody's.
    assert [(s.owner_code, s.version, s.status, s.total_amount) for s in statements] == [
        ("CC-1101", 1, "draft", Decimal("16.11")),
        ("CC-1201", 1, "draft", Decimal("4.55")),
        ("CC-1401", 1, "draft", Decimal("0.35")),
    ]
    assert run.status == AllocationRun.Status.ISSUED
    assert all(s.allocation_run_id == run.pk and s.supersedes_id is None for s in statements)
    assert statements[0].issued_by_label == "alpha-finance_analyst"
    assert statements[0].reference == "2026-10-CC-1101-v1"


def test_sections_hold_exact_nano_and_footed_amounts(issued):
    search = issued.statement("CC-1101")
    # direct 10.004 + 5.003, shared 1/3 of the 1.00 gateway (the odd nano-unit to the lowest code),
    # true-up 76.67 % of the 1.00 invoice difference. Footing gives the cent to the largest remainders:
    # true-up 0.7667 → 0.77 and input 10.004 → 10.01, so that 10.01 + 5.00 + 0.33 + 0.77 = 16.11 exactly.
    assert lines_of(search) == [
        (1, "direct", "chat", "gpt-4o", "input", "tag_map", 10_004_000_000, Decimal("10.01")),
        (2, "direct", "chat", "gpt-4o", "output", "tag_map", 5_003_000_000, Decimal("5.00")),
        (3, "shared", "gateway-healthcheck", "gpt-4o", "input", "even", 333_333_334, Decimal("0.33")),
        (4, "true_up", "", "", "true_up", "true_up", 766_709_983, Decimal("0.77")),
    ]
    assert (search.direct_nano, search.shared_nano, search.true_up_nano, search.adjustment_nano) == (
        15_007_000_000,
        333_333_334,
        766_709_983,
        0,
    )
    assert search.total_nano == 16_107_043_317
    assert (search.direct_amount, search.shared_amount, search.true_up_amount, search.adjustment_amount) == (
        Decimal("15.01"),
        Decimal("0.33"),
        Decimal("0.77"),
        Decimal("0"),
    )
    assert search.total_amount == Decimal("16.11")
    assert search.line_count == 4

    ads = issued.statement("CC-1201")
    assert [(row[1], row[6], row[7]) for row in lines_of(ads)] == [
        ("direct", 4_001_000_000, Decimal("4.00")),
        ("shared", 333_333_333, Decimal("0.33")),
        ("true_up", 216_630_014, Decimal("0.22")),
    ]
    finance = issued.statement("CC-1401")
    assert [(row[1], row[6], row[7]) for row in lines_of(finance)] == [
        ("shared", 333_333_333, Decimal("0.33")),
        ("true_up", 16_660_003, Decimal("0.02")),
    ]
    assert finance.total_amount == Decimal("0.35")


def test_every_statement_foots_lines_to_sections_to_total(issued):
    with scope(organization=issued.organization):
        for statement in Statement.objects.all():
            lines = list(statement.lines.all())
            for section in Section.values:
                in_section = [line for line in lines if line.section == section]
                assert sum((line.amount for line in in_section), Decimal(0)) == statement.section_amount(section)
                assert sum(line.amount_nano for line in in_section) == statement.section_nano(section)
            assert sum(statement.section_amount(s) for s in Section.values) == statement.total_amount
            assert sum(line.amount_nano for line in lines) == statement.total_nano


def test_the_statements_and_unallocated_add_up_to_the_invoice(issued):
    # 21.508 invoiced = 16.107043317 + 4.550963347 + 0.349993336 + 0.50 Unallocated
    with scope(organization=issued.organization):
        charged = sum(Statement.objects.values_list("total_nano", flat=True))
    assert charged + 500_000_000 == 21_508_000_000


@pytest.mark.parametrize(
    ("method", "cost_source", "section"),
    [
        ("direct", "input", "direct"),
        ("tag_map", "output", "direct"),
        ("even", "input", "shared"),
        ("fixed", "cache_read", "shared"),
        ("proportional", "tool_calls", "shared"),
        ("usage", "cache_write", "shared"),
        ("true_up", "true_up", "true_up"),
        ("proportional", "true_up", "true_up"),  # a shared pool of the true-up is still the true-up
        ("even", "true_up", "true_up"),
    ],
)
def test_section_of_an_allocation_line(method, cost_source, section):
    assert section_for(method=method, cost_source=cost_source) == section


def test_an_unknown_method_has_no_section():
    with pytest.raises(ValueError, match="method “unallocated” has no statement section"):
        section_for(method="unallocated", cost_source="input")


def test_the_review_guard_needs_a_draft_allocation_run(world):
    organization = world.org("a")
    run, _ = october_allocated(organization)
    billing_period = billing_period_of(run)
    assert guard_period_has_draft_allocation(billing_period=billing_period, actor=None) is None
    set_state(billing_period, BillingPeriod.State.IN_REVIEW)
    statements_issue(billing_period=billing_period, actor=None, reason="")
    # the run is issued now: another review of this month needs a new allocation first
    assert (
        guard_period_has_draft_allocation(billing_period=billing_period, actor=None)
        == "Allocate 2026-10 before sending it to review."
    )


def test_the_review_guard_names_a_month_that_was_never_allocated(world):
    with scope(organization=world.org("a")):
        billing_period = BillingPeriod.objects.create(organization=world.org("a"), period=OCT.replace(month=11))
    assert (
        guard_period_has_draft_allocation(billing_period=billing_period)
        == "Allocate 2026-11 before sending it to review."
    )
    with pytest.raises(ValidationError, match=r"Allocate 2026-11 before sending it to review\."):
        statements_issue(billing_period=billing_period, actor=None, reason="")


def test_issuing_the_same_version_twice_is_refused(issued):
    with scope(organization=issued.organization):
        AllocationRun.objects.filter(pk=issued.run.pk).update(status="draft")
    with pytest.raises(ValidationError, match=r"Statements of 2026-10 version 1 are already issued\."):
        statements_issue(billing_period=issued.billing_period, actor=None, reason="")


def test_issuing_writes_no_audit_event_of_its_own(world):
    # A transition writes exactly one audit event (the periods app's); the statements record who issued them.
    run, _ = october_allocated(world.org("a"))
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    with scope(organization=world.org("a")):
        before = AuditEvent.objects.count()
    statements_issue(billing_period=billing_period, actor=None, reason="")
    with scope(organization=world.org("a")):
        assert AuditEvent.objects.count() == before


def test_closing_makes_the_current_drafts_final(issued):
    set_state(issued.billing_period, BillingPeriod.State.CLOSED)
    assert statements_finalise(billing_period=issued.billing_period, actor=None, reason="") == 3
    with scope(organization=issued.organization):
        rows = list(Statement.objects.values_list("status", flat=True))
        assert all(s.finalised_at is not None for s in Statement.objects.all())
    assert rows == ["final", "final", "final"]
    assert statements_finalise(billing_period=issued.billing_period, actor=None, reason="") == 0


def test_statements_issued_are_e_mailed_to_the_owners_users(world, django_capture_on_commit_callbacks):
    organization = world.org("a")
    run, owners = october_allocated(organization)
    owner_user = world.user("a", "budget_owner")
    analyst = world.user("a", "finance_analyst")
    with scope(organization=organization):
        owners["CC-1101"].owner_users.add(owner_user)
        owners["CC-1401"].owner_users.add(analyst)  # e-mailed as the cost centre's owner, whatever the role
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        statements_issue(billing_period=billing_period, actor=None, reason="")
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("alpha-budget_owner@example.com", "[Alpha Corp] Statements for 2026-10 issued (version 1)"),
        ("alpha-finance_analyst@example.com", "[Alpha Corp] Statements for 2026-10 issued (version 1)"),
    ]
    body = next(m.body for m in mail.outbox if m.to == ["alpha-budget_owner@example.com"])
    with scope(organization=organization):
        search = Statement.objects.get(owner__code="CC-1101")
    assert "- CC-1101 Search: 16.11 USD" in body
    assert f"http://127.0.0.1:8000/o/alpha/statements/{search.pk}/" in body
    assert "CC-1401" not in body


def test_owners_of_a_parent_cost_centre_are_e_mailed_too(world, django_capture_on_commit_callbacks):
    organization = world.org("a")
    run, owners = october_allocated(organization)
    with scope(organization=organization):
        parent = owners["CC-1101"].__class__.objects.create(organization=organization, code="CC-1100", name="Search")
        for code in ("CC-1101", "CC-1201"):
            owners[code].parent = parent
            owners[code].save()
        parent.owner_users.add(world.user("a", "budget_owner"))
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        statements_issue(billing_period=billing_period, actor=None, reason="")
    [message] = mail.outbox
    assert message.to == ["alpha-budget_owner@example.com"]
    assert "- CC-1101 Search: 16.11 USD" in message.body
    assert "- CC-1201 Ads: 4.55 USD" in message.body


def test_nothing_is_e_mailed_when_the_transition_rolls_back(world, django_capture_on_commit_callbacks):
    run, owners = october_allocated(world.org("a"))
    with scope(organization=world.org("a")):
        owners["CC-1101"].owner_users.add(world.user("a", "budget_owner"))
    billing_period = set_state(billing_period_of(run), BillingPeriod.State.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        statements_issue(billing_period=billing_period, actor=None, reason="")
    assert len(callbacks) == 1  # queued for commit, never sent inside the transaction
    assert mail.outbox == []


# --- versions ------------------------------------------------------------------------------------


def reopen_and_review(issued, *, extra_invoice_nano: int = 0) -> list[Statement]:
    """Close version 1, reopen (version 2), allocate again (optionally with a bigger invoice) and review."""
    billing_period = issued.billing_period
    set_state(billing_period, BillingPeriod.State.CLOSED)
    statements_finalise(billing_period=billing_period, actor=None, reason="")
    set_state(billing_period, BillingPeriod.State.OPEN, version=2)
    if extra_invoice_nano:
        with scope(organization=issued.organization):
            from apps.invoices.models import ProviderInvoice

            invoice = ProviderInvoice.objects.get(provider="openai", billing_period=OCT)
            InvoiceLineFactory(invoice=invoice, amount_nano=extra_invoice_nano, cost_source="output")
    allocation_run_create(organization=issued.organization, period=OCT, actor=None)
    set_state(billing_period, BillingPeriod.State.IN_REVIEW)
    return statements_issue(billing_period=billing_period, actor=None, reason="")


def test_reopening_gives_version_2_that_supersedes_version_1_with_the_difference(issued):
    # Given a closed version 1, when a late invoice line of 2.00 arrives and the period is reviewed again
    second = reopen_and_review(issued, extra_invoice_nano=2_000_000_000)
    # then every owner gets version 2, superseding their final version 1, which is untouched
    assert [(s.owner_code, s.version, s.status) for s in second] == [
        ("CC-1101", 2, "draft"),
        ("CC-1201", 2, "draft"),
        ("CC-1401", 2, "draft"),
    ]
    v1 = issued.statement("CC-1101", version=1)
    v2 = issued.statement("CC-1101", version=2)
    assert v2.supersedes_id == v1.pk
    assert v1.status == "final" and v1.total_amount == Decimal("16.11")
    assert v1.superseded_by == v2
    # the true-up is now 3.00 (76.67 % of it is CC-1101's); nothing else moved
    assert v2.true_up_nano == 2_300_129_948
    rows = [(row.label, row.previous, row.current, row.difference) for row in statement_difference(statement=v2)]
    assert rows == [
        ("Direct cost", Decimal("15.01"), Decimal("15.01"), Decimal("0.00")),
        ("Shared cost", Decimal("0.33"), Decimal("0.33"), Decimal("0.00")),
        ("Invoice true-up", Decimal("0.77"), Decimal("2.30"), Decimal("1.53")),
        ("Adjustments", Decimal("0"), Decimal("0"), Decimal("0")),
        ("Total", Decimal("16.11"), Decimal("17.64"), Decimal("1.53")),
    ]
    assert statement_difference(statement=v1) == []
    # version 1's allocation run and version 2's are both kept, each issued
    with scope(organization=issued.organization):
        assert list(AllocationRun.objects.order_by("pk").values_list("status", flat=True)) == ["issued", "issued"]


def test_an_owner_whose_charge_disappears_gets_a_zero_version_superseding_the_old_one(issued):
    # Given CC-1401's share of the gateway goes to CC-1301 instead in version 2
    from apps.allocation.models import RuleSet
    from apps.allocation.services import draft_from_version, draft_publish, draft_update
    from tests.factories.statements import RULES

    with scope(organization=issued.organization):
        version = RuleSet.objects.get().versions.get(number=1)
    document = {**RULES, "rules": [dict(RULES["rules"][0]), RULES["rules"][1]]}
    document["rules"][0]["targets"] = [{"owner": "CC-1101"}, {"owner": "CC-1201"}, {"owner": "CC-1301"}]
    draft = draft_from_version(version=version, actor=None)
    draft, _ = draft_update(draft=draft, document=document, actor=None)
    draft_publish(draft=draft, actor=None)
    second = reopen_and_review(issued)
    assert [(s.owner_code, s.total_amount) for s in second] == [
        ("CC-1101", Decimal("16.11")),
        ("CC-1201", Decimal("4.55")),
        ("CC-1301", Decimal("0.35")),
        ("CC-1401", Decimal("0.00")),
    ]
    zero = issued.statement("CC-1401", version=2)
    assert zero.supersedes == issued.statement("CC-1401", version=1)
    assert zero.line_count == 0
    assert statement_difference(statement=zero)[-1].difference == Decimal("-0.35")
    assert issued.statement("CC-1301", version=2).supersedes is None


def test_statement_lines_keep_the_allocation_explanations(issued):
    search = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        shared = StatementLine.objects.get(statement=search, section="shared")
        direct = StatementLine.objects.get(statement=search, section="direct", cost_source="input")
    assert shared.explanation == "33.33% of Gateway $1.00 (openai gpt-4o input), split evenly among 3 owners"
    assert shared.rule_name == "Gateway"
    assert shared.share == Decimal("0.333333333333")
    assert direct.match_tags == {"team": "search"}
    assert direct.source_key == f"alloc:{direct.allocation_line_id}"


def test_statements_of_another_organisation_are_separate(world):
    issue_october(world.org("a"))
    issue_october(world.org("b"))
    with scope(organization=world.org("a")):
        assert Statement.objects.count() == 3
        assert set(Statement.objects.values_list("organization_id", flat=True)) == {world.org("a").pk}
