"""Allocation runs: reading the period out of the cube and the invoices, storing a run, re-runs, freezes,
preview, footed totals and the ``allocate`` command."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun, RuleSetVersion
from apps.allocation.rules.services import draft_from_version, draft_publish, draft_update
from apps.allocation.runs.inputs import invoice_totals, period_cells
from apps.allocation.runs.selectors import current_run, run_owner_totals
from apps.allocation.runs.services import allocation_preview, allocation_run_create
from apps.audit.models import AuditEvent
from apps.periods.models import BillingPeriod
from apps.taxonomy.models import TagSet
from apps.taxonomy.normalise import tagset_hash
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.periods import set_state
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import allocated

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)
USD = 10**9
TEAMS = {"kind": "tag_map", "name": "Teams", "dimension": "team", "conditions": []}


def doc(*rules, mode="full_cost", central=None):
    return {"rules": list(rules), "true_up": {"mode": mode, "central_owner": central}}


def published(organization, document, *, name="Allocation rules") -> RuleSetVersion:
    return draft_publish(draft=rule_set_with_draft(organization, document, name=name), actor=None)


def usage(organization, tags, *, day=OCT + datetime.timedelta(days=5), **columns):
    """A cube row; ``scenarios.allocated`` writes its rows on the 3rd, so the default day never collides."""
    with scope(organization=organization):
        tagset = TagSet.objects.filter(hash=tagset_hash(tags)).first() or TagSetFactory(
            organization=organization, tags=tags
        )
        return DailyUsageFactory(organization=organization, tagset=tagset, day=day, **columns)


def ai_invoice(organization, provider: str, *amounts_nano: int, period=OCT, **extra):
    with scope(organization=organization):
        invoice = ProviderInvoiceFactory(organization=organization, provider=provider, billing_period=period)
        for amount in amounts_nano:
            InvoiceLineFactory(invoice=invoice, amount_nano=amount, **extra)
    return invoice


def lines_of(run) -> list[AllocationLine]:
    with scope(organization=run.organization):
        return list(AllocationLine.objects.filter(run=run).order_by("position"))


def runs_of(organization) -> list[AllocationRun]:
    with scope(organization=organization):
        return list(AllocationRun.objects.order_by("pk"))


def audit_events(organization, action="allocation_run.created") -> list[AuditEvent]:
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


@pytest.fixture
def org(world):
    """Organisation "alpha"; ``scenarios.allocated`` brings its own catalog."""
    return world.org("a")


@pytest.fixture
def catalog(org):
    """Owners, tags and models of ``allocation_catalog`` for tests that build their own rules."""
    allocation_catalog(org)


# --- reading the period --------------------------------------------------------------------------


def test_the_cube_unpivots_into_one_cell_per_cost_source_with_requests_on_one_cell(world, org, catalog):
    # Given one tag set's row on two days (summed), with output and cache read costed but input free,
    usage(org, {"team": "search"}, requests=4, input_tokens=100, cost_output_nano=7, output_tokens=50)
    usage(
        org,
        {"team": "search"},
        day=OCT + datetime.timedelta(days=9),
        requests=6,
        input_tokens=200,
        cost_output_nano=3,
        output_tokens=25,
        cost_cache_read_nano=11,
        cache_read_tokens=900,
        cost_tools_nano=5,
    )
    # a row with no cost and no tokens at all (its requests still count, on "input"),
    usage(org, {"team": "ads"}, requests=2)
    # and usage of another month and of another organisation, which are not read.
    usage(org, {"team": "search"}, day=datetime.date(2026, 11, 1), requests=1, cost_input_nano=99)
    allocation_catalog(world.org("b"))
    usage(world.org("b"), {"team": "search"}, requests=1, cost_input_nano=99)

    cells = period_cells(organization=org, period=OCT)

    by_source = {(cell.tags.get("team"), cell.cost_source): cell for cell in cells}
    assert sorted(by_source) == [
        ("ads", "input"),
        ("search", "cache_read"),
        ("search", "input"),
        ("search", "output"),
        ("search", "tool_calls"),
    ]  # search's cache write is zero in every column: no cell
    figures = {key: (cell.amount_nano, cell.tokens, cell.requests) for key, cell in by_source.items()}
    assert figures == {
        ("search", "input"): (0, 300, 0),  # tokens without cost are kept, requests are not here
        ("search", "output"): (10, 75, 10),  # the first cost source with cost takes all 4 + 6 requests
        ("search", "cache_read"): (11, 900, 0),
        ("search", "tool_calls"): (5, 0, 0),  # tool calls have no token column
        ("ads", "input"): (0, 0, 2),
    }
    assert {(cell.provider, cell.model, cell.service_tier, cell.is_retry) for cell in cells} == {
        ("openai", "gpt-4o", "standard", False)
    }
    assert sum(cell.requests for cell in cells) == 12


def test_invoice_totals_are_the_ai_lines_of_the_month_per_provider(world, org, catalog):
    ai_invoice(org, "openai", 10 * USD, 2_500_000_000, -500_000_000)  # a credit line counts too
    ai_invoice(org, "openai", 1 * USD, is_ai=False)  # the non-AI part of a cloud bill
    ai_invoice(org, "anthropic", 3 * USD)
    ai_invoice(org, "anthropic", 40 * USD, period=datetime.date(2026, 9, 1))
    ai_invoice(world.org("b"), "openai", 70 * USD)

    assert invoice_totals(organization=org, period=OCT) == {"anthropic": 3 * USD, "openai": 12 * USD}
    assert invoice_totals(organization=org, period=datetime.date(2026, 12, 1)) == {}


# --- a run --------------------------------------------------------------------------------------


def test_a_run_stores_its_lines_and_they_sum_exactly_to_the_pool(org):
    run = allocated(org).run

    assert (run.period, run.status, run.currency, run.rule_set_version.number) == (OCT, "draft", "USD", 1)
    assert (run.pool_total_nano, run.estimated_nano, run.true_up_nano) == (20 * USD, 20 * USD, 0)
    assert (run.allocated_nano, run.unallocated_nano, run.cells, run.line_count) == (19 * USD, 1 * USD, 6, 5)
    assert (run.created_by_label, run.invoice_totals) == ("system", {})
    rows = [
        (line.owner_code, line.cost_source, line.amount_nano, line.method, line.rule_name, line.match_tags)
        for line in lines_of(run)
    ]
    assert rows == [
        ("CC-1101", "input", 10 * USD, "tag_map", "Teams", {"team": "search"}),
        ("CC-1101", "output", 5 * USD, "tag_map", "Teams", {"team": "search"}),
        ("CC-1201", "input", 4 * USD, "tag_map", "Teams", {"team": "ads"}),
        ("CC-1201", "output", 0, "tag_map", "Teams", {"team": "ads"}),  # tokens without cost
        ("", "input", 1 * USD, "unallocated", "", {}),
    ]
    unallocated = lines_of(run)[-1]
    assert (unallocated.owner, unallocated.share, unallocated.explanation) == (
        None,
        Decimal("1.000000000000"),
        "Unallocated: no rule claims it",
    )
    assert lines_of(run)[0].explanation == "100% of openai gpt-4o input $10.00, tagged team=search (rule “Teams”)"
    assert sum(line.amount_nano for line in lines_of(run)) == run.pool_total_nano
    [event] = audit_events(org)
    assert event.before is None
    assert event.after == {
        "period": "2026-10",
        "rule_set": "Allocation rules",
        "rule_set_version": 1,
        "inputs_hash": run.inputs_hash,
        "pool_total_nano": 20 * USD,
        "unallocated_nano": 1 * USD,
        "lines": 5,
    }


def test_full_cost_true_up_ties_the_run_to_the_invoice_to_the_nano(org):
    # Given $15 of search and $4 of ads usage (tagged) and $1 untagged, all openai,
    allocated(org)
    # an openai invoice of $22.50 plus a non-AI line, and an anthropic invoice nobody has usage for,
    ai_invoice(org, "openai", 20 * USD, 2_500_000_000)
    ai_invoice(org, "openai", 9 * USD, is_ai=False)
    ai_invoice(org, "anthropic", 3 * USD)

    # when the period is allocated again,
    run = allocation_run_create(organization=org, period=OCT, actor=None)

    # the $2.50 openai difference is spread 15 : 4 over the owners (Unallocated takes no part), the largest
    # remainder getting the odd nano, and anthropic's $3 stays Unallocated: no owner has anthropic cost.
    assert run.invoice_totals == {"anthropic": 3 * USD, "openai": 22_500_000_000}
    assert (run.estimated_nano, run.true_up_nano, run.pool_total_nano) == (20 * USD, 5_500_000_000, 25_500_000_000)
    true_up = [line for line in lines_of(run) if line.cost_source == "true_up"]
    assert [(line.owner_code, line.provider, line.amount_nano, line.share, line.method) for line in true_up] == [
        ("CC-1101", "openai", 1_973_684_211, Decimal("0.789473684211"), "true_up"),
        ("CC-1201", "openai", 526_315_789, Decimal("0.210526315789"), "true_up"),
        ("", "anthropic", 3 * USD, Decimal("1.000000000000"), "unallocated"),
    ]
    assert true_up[0].rule_name == "true-up policy"
    assert true_up[0].explanation == "78.95% of the openai invoice true-up $2.50, by share of estimated openai cost"
    assert true_up[2].explanation == (
        "Unallocated: no budget owner has allocated anthropic cost to spread the true-up by"
    )
    assert sum(line.amount_nano for line in lines_of(run)) == run.pool_total_nano == 25_500_000_000
    assert (run.allocated_nano, run.unallocated_nano) == (21_500_000_000, 4 * USD)
    # openai now charges exactly its invoice: every openai line adds up to 22.50
    openai = sum(line.amount_nano for line in lines_of(run) if line.provider == "openai")
    assert openai == 22_500_000_000
    assert [(row.code, row.amount) for row in run_owner_totals(run=run)] == [
        ("CC-1101", Decimal("16.97")),
        ("CC-1201", Decimal("4.53")),
        ("", Decimal("4.00")),
    ]


def test_rerunning_with_changed_inputs_replaces_the_draft_run_and_audits_the_replaced_hash(world, org):
    first = allocated(org).run
    first_lines = [line.pk for line in lines_of(first)]
    usage(org, {"team": "ads"}, requests=1, cost_input_nano=2 * USD)

    second = allocation_run_create(organization=org, period=OCT, actor=world.user("a", "finance_analyst"))

    assert second.pk != first.pk and second.inputs_hash != first.inputs_hash
    assert runs_of(org) == [second]
    with scope(organization=org):
        assert not AllocationLine.objects.filter(pk__in=first_lines).exists()
    assert (second.pool_total_nano, second.created_by_label) == (22 * USD, "alpha-finance_analyst")
    assert second.created_by == world.user("a", "finance_analyst")
    replaced = audit_events(org)[-1]
    assert replaced.before == {"run": first.pk, "inputs_hash": first.inputs_hash, "replaced": True}
    assert replaced.after["inputs_hash"] == second.inputs_hash
    assert replaced.object_id == str(second.pk)


def test_rerunning_with_unchanged_inputs_keeps_the_run(org):
    first = allocated(org).run
    again = allocation_run_create(organization=org, period=OCT, actor=None)
    assert again.pk == first.pk
    assert runs_of(org) == [first]
    assert len(audit_events(org)) == 1  # nothing happened, nothing audited


@pytest.mark.parametrize(
    ("state", "words"), [(BillingPeriod.State.IN_REVIEW, "in review"), (BillingPeriod.State.CLOSED, "closed")]
)
def test_a_period_past_reconciling_refuses_to_allocate(org, state, words):
    run = allocated(org).run
    usage(org, {"team": "ads"}, requests=1, cost_input_nano=2 * USD)  # inputs changed since
    with scope(organization=org):
        set_state(BillingPeriod.objects.get(pk=run.billing_period_id), state)

    with pytest.raises(ValidationError) as refused:
        allocation_run_create(organization=org, period=OCT, actor=None)

    assert refused.value.messages == [
        f"2026-10 is {words}: its allocation is frozen because statements were built from it. "
        "Reopen the period to allocate it again."
    ]
    assert runs_of(org) == [run]


def test_a_draft_version_is_refused_for_a_run_but_previewed(org):
    run = allocated(org).run
    draft = draft_from_version(version=run.rule_set_version, actor=None)

    with pytest.raises(ValidationError) as refused:
        allocation_run_create(organization=org, period=OCT, actor=None, version=draft)
    assert refused.value.messages == ["Version 2 is a draft: preview it, or publish it to allocate with it."]

    preview = allocation_preview(organization=org, period=OCT, version=draft)
    assert preview.computed.version == draft
    assert preview.computed.result.inputs_hash == run.inputs_hash  # same rules, same inputs
    assert runs_of(org) == [run]


def test_without_a_published_rule_set_nothing_is_allocated(org, catalog):
    rule_set_with_draft(org, doc(TEAMS))
    with pytest.raises(ValidationError) as refused:
        allocation_run_create(organization=org, period=OCT, actor=None)
    assert refused.value.messages == [
        "There is no published rule set to allocate with: publish a version of the primary rule set first."
    ]
    assert runs_of(org) == []


def test_preview_shows_the_difference_per_owner_against_the_current_run_and_saves_nothing(org):
    run = allocated(org).run
    draft = draft_from_version(version=run.rule_set_version, actor=None)
    untagged_to_finance = {
        "kind": "direct",
        "name": "Untagged to finance",
        "conditions": [{"field": "tag:team", "op": "missing"}],
        "owner": "CC-1401",
    }
    draft, _ = draft_update(draft=draft, document=doc(TEAMS, untagged_to_finance), actor=None)
    with scope(organization=org):
        line_count = AllocationLine.objects.count()

    preview = allocation_preview(organization=org, period=OCT, version=draft)

    rows = [(row.code, row.name, row.current, row.preview, row.difference) for row in preview.rows]
    assert rows == [
        ("CC-1101", "Search", Decimal("15.00"), Decimal("15.00"), Decimal("0.00")),
        ("CC-1201", "Ads", Decimal("4.00"), Decimal("4.00"), Decimal("0.00")),
        ("CC-1401", "Finance", Decimal("0.00"), Decimal("1.00"), Decimal("1.00")),
        ("", "Unallocated", Decimal("1.00"), Decimal("0.00"), Decimal("-1.00")),
    ]
    assert (preview.pool_total, preview.unallocated, preview.current_run) == (Decimal("20.00"), Decimal("0.00"), run)
    assert runs_of(org) == [run]
    with scope(organization=org):
        assert AllocationLine.objects.count() == line_count


def test_preview_without_a_run_has_no_current_figures(org, catalog):
    version = published(org, doc(TEAMS))
    usage(org, {"team": "search"}, requests=3, cost_input_nano=2 * USD)
    preview = allocation_preview(organization=org, period=OCT, version=version)
    assert preview.current_run is None
    assert [(row.code, row.current, row.preview, row.difference) for row in preview.rows] == [
        ("CC-1101", None, Decimal("2.00"), Decimal("2.00"))
    ]


def test_preview_refuses_another_organisations_version(world, org, catalog):
    other = world.org("b")
    allocation_catalog(other)
    version = published(other, doc(TEAMS))
    with pytest.raises(ValidationError) as refused:
        allocation_preview(organization=org, period=OCT, version=version)
    assert refused.value.messages == ["That rule set version belongs to another organisation."]


def test_owner_totals_are_footed_to_add_up_to_the_footed_pool(org, catalog):
    # Two cents shared evenly by three owners: 0.006666667 + 0.006666667 + 0.006666666. Rounded one by
    # one they would show 0.01 three times (0.03); footed, the two largest remainders get a cent each.
    shared = {
        "kind": "shared_pool",
        "name": "Gateway",
        "conditions": [{"field": "tag:feature", "op": "equals", "value": "gateway-healthcheck"}],
        "source": "conditions",
        "method": "even",
        "targets": [{"owner": "CC-1101"}, {"owner": "CC-1201"}, {"owner": "CC-1401"}],
    }
    published(org, doc(shared))
    usage(org, {"feature": "gateway-healthcheck"}, requests=1, cost_input_nano=20_000_000)

    run = allocation_run_create(organization=org, period=OCT, actor=None)

    assert [line.amount_nano for line in lines_of(run)] == [6_666_667, 6_666_667, 6_666_666]
    totals = run_owner_totals(run=run)
    assert [(row.code, row.name, row.amount_nano, row.amount) for row in totals] == [
        ("CC-1101", "Search", 6_666_667, Decimal("0.01")),
        ("CC-1201", "Ads", 6_666_667, Decimal("0.01")),
        ("CC-1401", "Finance", 6_666_666, Decimal("0.00")),
    ]
    assert sum(row.amount for row in totals) == Decimal("0.02") == Decimal(run.pool_total_nano) / USD


def test_current_run_is_the_draft_else_the_latest_issued_run(org):
    run = allocated(org).run
    assert current_run(organization=org, period=OCT) == run
    assert current_run(organization=org, period=datetime.date(2026, 9, 1)) is None
    with scope(organization=org):
        AllocationRun.objects.filter(pk=run.pk).update(status=AllocationRun.Status.ISSUED)
    assert current_run(organization=org, period=OCT) == run


# --- the command ---------------------------------------------------------------------------------


def allocate(*args) -> str:
    out = io.StringIO()
    call_command("allocate", *args, stdout=out)
    return out.getvalue()


def test_allocate_json_prints_exactly_the_documented_object(org):
    run = allocated(org).run
    ai_invoice(org, "openai", 22_500_000_000)

    output = allocate("--org", "alpha", "--period", "2026-10", "--json")

    [rerun] = runs_of(org)
    assert rerun.pk != run.pk
    assert json.loads(output) == {
        "period": "2026-10",
        "rule_set_version": 1,
        "pool_total": "22.50",
        "unallocated": "1.00",
        "owners": [{"code": "CC-1101", "amount": "16.97"}, {"code": "CC-1201", "amount": "4.53"}],
        "lines": 7,
        "inputs_hash": rerun.inputs_hash,
    }
    assert len(rerun.inputs_hash) == 64
    assert output.count("\n") == 1  # one JSON object, one line


def test_allocate_prints_a_human_summary(org):
    run = allocated(org).run
    output = allocate("--org", "alpha", "--period", "2026-10")
    assert output.splitlines() == [
        "Allocated 2026-10 with rule set version 1: pool 20.00, 5 lines",
        "  CC-1101               15.00",
        "  CC-1201                4.00",
        "  Unallocated            1.00",
        f"  inputs {run.inputs_hash}",
    ]


def test_allocate_preview_saves_nothing(org, catalog):
    published(org, doc(TEAMS))
    usage(org, {"team": "search"}, requests=3, cost_input_nano=2 * USD)
    usage(org, {"team": "research"}, requests=1, cost_input_nano=500_000_000)
    with scope(organization=org):
        events = AuditEvent.objects.count()

    output = allocate("--org", "alpha", "--period", "2026-10", "--preview", "--json")

    summary = json.loads(output)
    assert {key: value for key, value in summary.items() if key != "inputs_hash"} == {
        "period": "2026-10",
        "rule_set_version": 1,
        "pool_total": "2.50",
        "unallocated": "0.50",
        "owners": [{"code": "CC-1101", "amount": "2.00"}],
        "lines": 2,
    }
    assert runs_of(org) == []
    with scope(organization=org):
        assert not BillingPeriod.objects.exists()
    with scope(organization=org):
        assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope", "--period", "2026-10"], "No organisation with slug 'nope'."),
        (["--org", "alpha", "--period", "2026-13"], "--period '2026-13': use YYYY-MM, e.g. 2026-10."),
        (["--org", "alpha", "--period", "October"], "--period 'October': use YYYY-MM, e.g. 2026-10."),
        (
            ["--org", "alpha", "--period", "2026-10"],
            "There is no published rule set to allocate with: publish a version of the primary rule set first.",
        ),
        (["--org", "alpha", "--period", "2026-10", "--preview"], "There is no rule set to preview: create one first."),
    ],
)
def test_allocate_errors_are_command_errors(org, catalog, args, message):
    with pytest.raises(CommandError) as error:
        allocate(*args)
    assert str(error.value) == message
    assert runs_of(org) == []
