"""Allocation pages: the period summary and owner table, allocating from the page, an owner's lines with
drill-down, Unallocated, preview, and what budget owners and viewers may see."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun
from apps.allocation.rules.services import draft_from_version, draft_update
from apps.allocation.runs.services import allocation_run_create
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.periods import set_state
from tests.scenarios import allocated

from .test_runs import OCT, TEAMS, USD, ai_invoice, doc, published, usage

pytestmark = pytest.mark.django_db


def url(name: str, period: str = "2026-10", **kwargs) -> str:
    if name == "overview":
        return reverse("allocation:overview", kwargs={"org_slug": "alpha"})
    return reverse(f"allocation:{name}", kwargs={"org_slug": "alpha", "period": period, **kwargs})


def main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main>") : html.index("</main>")]


@pytest.fixture
def org(world):
    return world.org("a")


@pytest.fixture
def run(org):
    return allocated(org).run


@pytest.fixture
def budget_owner(world, run):
    """alpha's budget owner owns CC-1101 (Search) only."""
    with scope(organization=world.org("a")):
        BudgetOwner.objects.get(code="CC-1101").owner_users.add(world.user("a", "budget_owner"))
    return world.login("a", "budget_owner")


def runs_of(org):
    with scope(organization=org):
        return list(AllocationRun.objects.order_by("pk"))


# --- overview -----------------------------------------------------------------------------------


def test_overview_without_runs_explains_how_to_allocate(world, org):
    allocation_catalog(org)
    usage(org, {"team": "search"}, requests=1, cost_input_nano=USD)
    response = world.login("a", "finance_analyst").get(url("overview"))
    assert response.status_code == 200
    html = main(response)
    assert "No month has been allocated yet." in html
    assert "Publish a version of the primary rule set" in html
    assert "Open a month below and press <strong>Allocate now</strong>.</li>" in html
    assert '<a href="/o/alpha/allocation/2026-10/">2026-10</a>' in html  # a month with usage to open


def test_overview_opens_the_newest_allocated_month_or_the_one_asked_for(world, org):
    allocated(org, period=datetime.date(2026, 9, 1))
    client = world.login("a", "viewer")
    assert client.get(url("overview"))["Location"] == "/o/alpha/allocation/2026-09/"
    usage(org, {"team": "search"}, requests=1, cost_input_nano=USD)
    allocation_run_create(organization=org, period=OCT, actor=None)
    assert client.get(url("overview"))["Location"] == "/o/alpha/allocation/2026-10/"
    assert client.get(url("overview"), {"period": "2026-09"})["Location"] == "/o/alpha/allocation/2026-09/"


def test_a_month_the_organisation_has_nothing_in_is_not_a_page(world, run):
    client = world.login("a", "finance_admin")
    assert client.get(url("period", "2026-08")).status_code == 404
    assert client.get("/o/alpha/allocation/2026-13/").status_code == 404
    assert client.post(url("allocate", "2026-08")).status_code == 404
    assert runs_of(world.org("a")) == [run]


# --- the period page ----------------------------------------------------------------------------


def test_period_page_shows_the_summary_and_owner_totals_footed_with_bars(world, run):
    response = world.login("a", "finance_analyst").get(url("period"))
    assert response.status_code == 200
    html = main(response)
    assert f"<h2>Run #{run.pk} <span" in html and ">draft</span>" in html
    assert "<dt>Billing period</dt><dd>Open</dd>" in html
    assert "<dt>Rule set</dt><dd>Allocation rules v1</dd>" in html
    title = "sha256 of the cost cells, invoice totals, rules and exchange rates"
    assert f'<code title="{title}">{run.inputs_hash}</code>' in html
    assert '<dt>Currency</dt><dd>USD <span class="muted">(nothing converted)</span></dd>' in html
    assert "by system" in html
    assert "<dt>Pool</dt><dd><strong>20.00 USD</strong></dd>" in html
    assert "<dt>Estimated (usage)</dt><dd>20.00</dd>" in html
    assert '<dt>Invoice true-up</dt><dd>0.00 <span class="muted">(no invoice yet)</span>' in html
    assert "<dt>Allocated to owners</dt><dd>19.00</dd>" in html
    assert '<a href="/o/alpha/allocation/2026-10/unallocated/"><strong>1.00</strong></a>' in html
    rows = [(row.total.code, row.total.amount, row.bar_pct) for row in response.context["rows"]]
    assert rows == [("CC-1101", Decimal("15.00"), 100), ("CC-1201", Decimal("4.00"), 26), ("", Decimal("1.00"), 6)]
    assert '<a href="/o/alpha/allocation/2026-10/owners/CC-1101/"><code>CC-1101</code></a> Search' in html
    assert '<rect class="fill-accent" width="26" height="1"/>' in html
    assert '<tr class="unallocated-row"><td><a href="/o/alpha/allocation/2026-10/unallocated/">' in html
    assert '<tfoot><tr><th>Pool</th><th class="num">20.00</th>' in html
    assert "Allocate now" in html
    assert "<script" not in html


def test_period_page_with_a_true_up_foots_estimated_and_true_up_to_the_pool(world, run):
    ai_invoice(world.org("a"), "openai", 22_500_000_000)
    allocation_run_create(organization=world.org("a"), period=OCT, actor=None)
    response = world.login("a", "viewer").get(url("period"))
    html = main(response)
    assert "<dt>Pool</dt><dd><strong>22.50 USD</strong></dd>" in html
    assert '<dt>Invoice true-up</dt><dd>+2.50 <span class="muted">(invoices: openai 22.50)</span>' in html
    assert "<dt>Allocated to owners</dt><dd>21.50</dd>" in html
    amounts = [row.total.amount for row in response.context["rows"]]
    assert amounts == [Decimal("16.97"), Decimal("4.53"), Decimal("1.00")]
    assert sum(amounts) == Decimal("22.50")
    assert "Allocate now" not in html  # viewers read only


def test_a_month_with_usage_but_no_run_offers_to_allocate(world, org):
    allocation_catalog(org)
    usage(org, {"team": "search"}, requests=1, cost_input_nano=USD)
    html = main(world.login("a", "finance_admin").get(url("period")))
    assert "2026-10 has not been allocated yet." in html
    assert "<strong>There is no published rule set yet.</strong>" in html
    assert 'action="/o/alpha/allocation/2026-10/allocate/"' in html


# --- allocating from the page -------------------------------------------------------------------


def test_allocate_now_replaces_the_run_and_says_what_it_did(world, run):
    usage(world.org("a"), {"team": "ads"}, requests=1, cost_input_nano=2 * USD)
    client = world.login("a", "finance_analyst")
    response = client.post(url("allocate"))
    assert response.status_code == 302 and response["Location"] == "/o/alpha/allocation/2026-10/"
    [new_run] = runs_of(world.org("a"))
    assert new_run.pk != run.pk
    assert new_run.created_by == world.user("a", "finance_analyst")
    html = main(client.get(response["Location"]))
    assert "Allocated 2026-10 with Allocation rules v1: 5 lines, Unallocated 1.00 USD." in html
    assert "by alpha-finance_analyst" in html


def test_allocate_now_with_nothing_changed_keeps_the_run(world, run):
    client = world.login("a", "finance_admin")
    html = main(client.post(url("allocate"), follow=True))
    assert (
        f"Nothing has changed since run #{run.pk}: the usage, invoices and rules are the same, "
        "so the allocation of 2026-10 is kept as it is." in html
    )
    assert runs_of(world.org("a")) == [run]


def test_allocate_now_shows_the_refusal_of_a_frozen_period(world, run):
    with scope(organization=world.org("a")):
        set_state(BillingPeriod.objects.get(pk=run.billing_period_id), BillingPeriod.State.IN_REVIEW)
    client = world.login("a", "finance_analyst")
    page = main(client.get(url("period")))
    assert "<strong>2026-10 is in review: its allocation is frozen.</strong>" in page
    assert "<dt>Billing period</dt><dd>In review</dd>" in page
    html = main(client.post(url("allocate"), follow=True))
    assert (
        '<li class="msg-error">2026-10 is in review: its allocation is frozen because statements were built '
        "from it. Reopen the period to allocate it again.</li>" in html
    )
    assert runs_of(world.org("a")) == [run]


def test_allocate_now_without_published_rules_says_so(world, org):
    allocation_catalog(org)
    rule_set_with_draft(org, doc(TEAMS))
    usage(org, {"team": "search"}, requests=1, cost_input_nano=USD)
    html = main(world.login("a", "finance_analyst").post(url("allocate"), follow=True))
    assert "There is no published rule set to allocate with: publish a version of the primary rule set first." in html
    assert runs_of(org) == []


@pytest.mark.parametrize("role", ["viewer", "budget_owner", "org_admin"])
def test_allocating_needs_prepare_period(world, run, role):
    usage(world.org("a"), {"team": "ads"}, requests=1, cost_input_nano=2 * USD)
    assert world.login("a", role).post(url("allocate")).status_code == 403
    assert world.login("a", role).get(url("allocate")).status_code in (403, 405)
    assert runs_of(world.org("a")) == [run]


# --- an owner's lines ---------------------------------------------------------------------------


def test_owner_page_lists_lines_with_explanation_rule_share_and_drill_down(world, run):
    ai_invoice(world.org("a"), "openai", 22_500_000_000)
    allocation_run_create(organization=world.org("a"), period=OCT, actor=None)
    response = world.login("a", "viewer").get(url("owner", code="CC-1101"))
    assert response.status_code == 200
    html = main(response)
    assert "<h1><code>CC-1101</code> Search · 2026-10</h1>" in html
    assert "<dt>Total</dt><dd><strong>16.97 USD</strong></dd>" in html
    rows = response.context["rows"]
    assert [(r["line"].cost_source, r["line"].method, r["amount"], r["share_pct"]) for r in rows] == [
        ("true_up", "true_up", Decimal("1.97"), Decimal("78.95")),  # the engine's order: no model sorts first
        ("input", "tag_map", Decimal("10.00"), Decimal("100.00")),
        ("output", "tag_map", Decimal("5.00"), Decimal("100.00")),
    ]
    assert (
        "<td>100% of openai gpt-4o input $10.00, tagged team=search (rule “Teams”)</td>" in html
        and "<td>78.95% of the openai invoice true-up $2.50, by share of estimated openai cost</td>" in html
    )
    assert '<td>true-up policy</td><td>true_up</td><td class="num">78.95%</td>' in html
    assert '<td class="num" title="exact 1.973684211">1.97</td>' in html
    assert (
        '<a href="/o/alpha/usage/?month=2026-10&amp;provider=openai&amp;model=gpt-4o&amp;cost_source=input'
        '&amp;tag_team=search">Usage</a>' in html
    )
    # a true-up line is the invoice's difference: no model or cost source to filter usage by
    assert '<a href="/o/alpha/usage/?month=2026-10&amp;provider=openai">Usage</a>' in html


def test_owner_lines_are_paginated_and_footed_to_the_owner_total_over_every_page(world, org):
    allocation_catalog(org)
    published(org, doc(TEAMS))
    for number in range(60):
        usage(org, {"team": "search", "feature": f"f{number:02d}"}, requests=1, cost_input_nano=1_234_567)
    allocation_run_create(organization=org, period=OCT, actor=None)
    client = world.login("a", "finance_analyst")

    first = client.get(url("owner", code="CC-1101"))
    second = client.get(url("owner", code="CC-1101"), {"page": 2})

    assert first.context["total"] == Decimal("0.07")  # 60 × 0.001234567 = 0.07407402
    assert (len(first.context["rows"]), len(second.context["rows"])) == (50, 10)
    amounts = [row["amount"] for row in first.context["rows"] + second.context["rows"]]
    assert amounts == [Decimal("0.01")] * 7 + [Decimal("0.00")] * 53  # equal remainders: the first lines
    assert "Page 2 of 2 (60 rows)" in main(second)
    feature_link = (
        "/o/alpha/usage/?month=2026-10&amp;provider=openai&amp;model=gpt-4o&amp;cost_source=input"
        "&amp;tag_feature=f00&amp;tag_team=search"
    )
    assert feature_link in main(first)


def test_drill_down_of_pool_and_direct_lines_carries_their_rules_conditions(world, org):
    allocation_catalog(org)
    research = {
        "kind": "shared_pool",
        "name": "Research",
        "conditions": [
            {"field": "tag:team", "op": "equals", "value": "research"},
            {"field": "is_retry", "op": "equals", "value": False},
            {"field": "model", "op": "glob", "value": "gpt-*"},  # not a filter the explorer has: left out
        ],
        "source": "conditions",
        "method": "even",
        "targets": [{"owner": "CC-1101"}, {"owner": "CC-1201"}],
    }
    untagged = {
        "kind": "direct",
        "name": "Untagged",
        "conditions": [{"field": "tag:team", "op": "missing"}],
        "owner": "CC-1401",
    }
    published(org, doc(research, untagged))
    usage(org, {"team": "research", "feature": "chat"}, requests=2, cost_input_nano=2 * USD)
    usage(org, {}, requests=1, cost_output_nano=USD)
    allocation_run_create(organization=org, period=OCT, actor=None)
    client = world.login("a", "finance_analyst")

    [pool_line] = client.get(url("owner", code="CC-1101")).context["rows"]
    [direct_line] = client.get(url("owner", code="CC-1401")).context["rows"]

    assert pool_line["usage_query"] == (
        "month=2026-10&provider=openai&model=gpt-4o&cost_source=input&retry=no&tag_feature=chat&tag_team=research"
    )
    assert pool_line["explanation"] == "50% of Research $2.00 (openai gpt-4o input), split evenly among 2 owners"
    assert direct_line["usage_query"] == (
        "month=2026-10&provider=openai&model=gpt-4o&cost_source=output&tag_team=%28missing%29"
    )


def test_an_owner_without_lines_and_an_unknown_owner(world, run):
    client = world.login("a", "finance_analyst")
    html = main(client.get(url("owner", code="CC-1401")))
    assert "CC-1401 has no allocated cost in 2026-10." in html
    assert "<dt>Total</dt><dd><strong>0.00 USD</strong></dd>" in html
    assert client.get(url("owner", code="CC-9999")).status_code == 404


def test_owner_and_unallocated_pages_need_a_run(world, org):
    allocation_catalog(org)
    usage(org, {"team": "search"}, requests=1, cost_input_nano=USD)
    client = world.login("a", "finance_analyst")
    assert client.get(url("owner", code="CC-1101")).status_code == 404
    assert client.get(url("unallocated")).status_code == 404


# --- Unallocated --------------------------------------------------------------------------------


def test_unallocated_page_lists_the_lines_and_their_reasons(world, run):
    ai_invoice(world.org("a"), "anthropic", 3 * USD)
    allocation_run_create(organization=world.org("a"), period=OCT, actor=None)
    response = world.login("a", "viewer").get(url("unallocated"))
    assert response.status_code == 200
    html = main(response)
    assert "<dt>Total</dt><dd><strong>4.00 USD</strong></dd>" in html
    assert [(row["reason"], row["amount"], row["count"]) for row in response.context["reasons"]] == [
        ("no budget owner has allocated anthropic cost to spread the true-up by", Decimal("3.00"), 1),
        ("no rule claims it", Decimal("1.00"), 1),
    ]
    assert "<td>no rule claims it</td>" in html
    assert "Unallocated: " not in html


# --- preview ------------------------------------------------------------------------------------


def test_preview_defaults_to_the_draft_and_shows_differences_without_saving(world, run):
    org = world.org("a")
    draft = draft_from_version(version=run.rule_set_version, actor=None)
    untagged = {
        "kind": "direct",
        "name": "Untagged to finance",
        "conditions": [{"field": "tag:team", "op": "missing"}],
        "owner": "CC-1401",
    }
    draft_update(draft=draft, document=doc(TEAMS, untagged), actor=None)
    with scope(organization=org):
        lines = AllocationLine.objects.count()

    response = world.login("a", "finance_analyst").get(url("preview"))

    assert response.status_code == 200
    assert response.context["version"] == draft
    html = main(response)
    assert f'<option value="{draft.pk}" selected>Allocation rules v2 (draft) · primary</option>' in html
    assert f'<option value="{run.rule_set_version.pk}">Allocation rules v1 (published) · primary</option>' in html
    assert (
        '<tr><td><code>CC-1401</code> Finance</td>\n    <td class="num">0.00</td><td class="num">1.00</td>\n'
        '    <td class="num"><strong>+1.00</strong></td></tr>' in html
    )
    assert (
        '<tr class="unallocated-row"><td><strong>Unallocated</strong></td>\n    <td class="num">1.00</td>'
        '<td class="num">0.00</td>\n    <td class="num"><strong>-1.00</strong></td></tr>' in html
    )
    assert '<tfoot><tr><th>Pool</th><th class="num">20.00</th><th class="num">20.00</th>' in html
    assert runs_of(org) == [run]
    with scope(organization=org):
        assert AllocationLine.objects.count() == lines

    published = world.login("a", "finance_analyst").get(url("preview"), {"version": run.rule_set_version.pk})
    assert [row.difference for row in published.context["result"].rows] == [Decimal("0.00")] * 3


def test_preview_of_an_unknown_or_foreign_version_is_404(world, run):
    other = world.org("b")
    foreign = allocated(other).run.rule_set_version
    client = world.login("a", "finance_analyst")
    assert client.get(url("preview"), {"version": foreign.pk}).status_code == 404
    assert client.get(url("preview"), {"version": "nope"}).status_code == 404


def test_preview_shows_why_a_version_cannot_allocate(world, run):
    org = world.org("a")
    draft = draft_from_version(version=run.rule_set_version, actor=None)
    direct = {"kind": "direct", "name": "Finance", "conditions": [], "owner": "CC-1401"}
    draft_update(draft=draft, document=doc(direct), actor=None)
    with scope(organization=org):
        BudgetOwner.objects.filter(code="CC-1401").update(is_active=False)
    html = main(world.login("a", "finance_analyst").get(url("preview")))
    assert (
        '<p class="msg-error">Rule set version 2 cannot allocate: Rule “Finance” names budget owner “CC-1401”, '
        "which is not a known owner.</p>" in html
    )


@pytest.mark.parametrize("role", ["viewer", "budget_owner", "org_admin"])
def test_preview_needs_prepare_period(world, run, role):
    assert world.login("a", role).get(url("preview")).status_code == 403


# --- who sees what ------------------------------------------------------------------------------


def test_a_budget_owner_sees_only_their_cost_centres_and_no_unallocated(world, budget_owner):
    response = budget_owner.get(url("period"))
    assert response.status_code == 200
    html = main(response)
    assert [row.total.code for row in response.context["rows"]] == ["CC-1101"]
    assert "<dt>Your cost centres</dt><dd><strong>15.00 USD</strong></dd>" in html
    assert "CC-1201" not in html and "Unallocated" not in html and "<dt>Pool</dt>" not in html
    assert "Allocate now" not in html
    assert budget_owner.get(url("owner", code="CC-1101")).status_code == 200
    assert budget_owner.get(url("owner", code="CC-1201")).status_code == 404
    assert budget_owner.get(url("unallocated")).status_code == 404


def test_a_budget_owner_without_cost_centres_sees_an_empty_table(world, run):
    html = main(world.login("a", "budget_owner").get(url("period")))
    assert "None of your cost centres has allocated cost in 2026-10." in html


def test_the_navigation_has_allocation_for_the_members_who_read_every_cost_centre(world, run):
    """Finance and viewers find Allocation in the navigation; a budget owner reads their charges on their
    statements (the page itself still answers them, limited to their cost centres, as tested above)."""
    for role in ("viewer", "finance_analyst"):
        home = world.login("a", role).get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
        assert 'href="/o/alpha/allocation/"' in home.content.decode()
    labels = [i["label"] for i in world.login("a", "budget_owner").get("/o/alpha/").context["nav_items"]]
    assert "Allocation" not in labels
