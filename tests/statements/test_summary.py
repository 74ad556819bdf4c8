"""The summary that opens a statement (total, against the budget and the month before, by feature, provider
and model) and the small lines grouped into one row."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.statements import selectors
from apps.statements.models import Statement, StatementLine
from apps.statements.views import CSV_HEADER
from apps.taxonomy.models import TagSet
from tests import scenarios
from tests.factories.owners import BudgetFactory
from tests.factories.usage import DailyUsageFactory

pytestmark = pytest.mark.django_db

SEP = datetime.date(2026, 9, 1)


def url(statement, **query) -> str:
    path = reverse("statements:detail", kwargs={"org_slug": "alpha", "pk": statement.pk})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def issued(world) -> scenarios.Issued:
    """October (``scenarios.SHARED``) issued; the budget-owner member owns CC-1101 (Search): direct 15.01
    (chat, openai gpt-4o), shared 0.33 (gateway-healthcheck, openai gpt-4o), true-up 0.77 (openai), 16.11."""
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def summary_of(issued, code="CC-1101", statement=None) -> selectors.StatementSummary:
    statement = statement or issued.statement(code)
    with scope(organization=issued.organization):
        sections = selectors.statement_sections(statement=statement)
        return selectors.statement_summary(statement=statement, sections=sections)


def rows(breakdown) -> list[tuple[str, Decimal, int]]:
    return [(row.label, row.amount, row.lines) for row in breakdown.rows]


def test_the_breakdowns_are_the_lines_by_feature_provider_and_model(issued):
    summary = summary_of(issued)
    by = {breakdown.key: breakdown for breakdown in summary.breakdowns}
    assert summary.total == Decimal("16.11")
    assert rows(by["feature"]) == [
        ("chat", Decimal("15.01"), 2),  # input 10.00 + output 5.01 of search's chat
        ("Invoice true-up", Decimal("0.77"), 1),  # a true-up has no feature or model
        ("gateway-healthcheck", Decimal("0.33"), 1),  # a third of the 1.00 gateway pool
    ]
    assert rows(by["provider"]) == [("openai", Decimal("16.11"), 4)]
    assert rows(by["model"]) == [("gpt-4o", Decimal("15.34"), 3), ("Invoice true-up", Decimal("0.77"), 1)]
    assert [row.share_pct for row in by["feature"].rows] == [Decimal("93.2"), Decimal("4.8"), Decimal("2.0")]


def test_every_breakdown_adds_up_to_the_statement_total_to_the_cent(issued):
    for code in ("CC-1101", "CC-1201", "CC-1401"):
        summary = summary_of(issued, code)
        statement = summary.statement
        with scope(organization=issued.organization):
            lines = list(StatementLine.objects.filter(statement=statement))
        assert sum(line.amount for line in lines) == statement.total_amount
        for breakdown in summary.breakdowns:
            assert sum(row.amount for row in breakdown.rows) == statement.total_amount, (code, breakdown.key)
            assert sum(row.lines for row in breakdown.rows) == len(lines)


def test_a_long_breakdown_keeps_eight_rows_and_adds_up_the_others(issued, monkeypatch):
    monkeypatch.setattr(selectors, "BREAKDOWN_ROWS", 1)
    feature = {b.key: b for b in summary_of(issued).breakdowns}["feature"]
    assert rows(feature) == [("chat", Decimal("15.01"), 2), ("2 others", Decimal("1.10"), 2)]
    assert feature.rows[-1].others


def test_against_the_budget_in_the_same_currency_only(world, issued):
    client = world.login("a", "budget_owner")
    statement = issued.statement("CC-1101")
    with scope(organization=issued.organization):
        budget = BudgetFactory(owner=statement.owner, period=statement.period, amount=Decimal("20.00"))
    summary = summary_of(issued)
    assert (summary.budget_used_pct, summary.budget_left, summary.budget_over) == (
        Decimal("80.6"),  # 16.11 / 20.00
        Decimal("3.89"),
        None,
    )
    html = client.get(url(statement)).content.decode()
    assert "20.00 USD</span>" in html and "80.6% used" in html and "3.89 left" in html

    with scope(organization=issued.organization):
        budget.amount = Decimal("10.00")
        budget.save()
    assert summary_of(issued).budget_over == Decimal("6.11")
    assert '<span class="bad-text">6.11 over budget</span>' in client.get(url(statement)).content.decode()

    with scope(organization=issued.organization):
        budget.currency = "EUR"
        budget.save()
    summary = summary_of(issued)
    assert not summary.budget_comparable and summary.budget_used_pct is None and summary.budget_left is None
    assert "budget in EUR, charges in USD: not compared" in client.get(url(statement)).content.decode()


def test_without_a_budget_or_a_statement_the_month_before(world, issued):
    html = world.login("a", "budget_owner").get(url(issued.statement("CC-1101"))).content.decode()
    assert "no budget" in html
    assert "none for this cost centre the month before" in html


def test_against_the_owners_statement_of_the_month_before(world):
    """September issued from ``scenarios.SHARED`` (16.11 for Search, with a 0.77 true-up); October has the
    same usage and no invoice yet: 15.34, 0.77 less (-4.8%)."""
    organization = world.org("a")
    owner_user = world.user("a", "budget_owner")
    september = scenarios.issued(organization, world.user("a", "finance_analyst"), period=SEP, owner_user=owner_user)
    with scope(organization=organization):
        tagsets = {json.dumps(tagset.tags, sort_keys=True): tagset for tagset in TagSet.objects.all()}
        for tags, input_nano, output_nano, requests in scenarios.SHARED.usage:
            DailyUsageFactory(
                organization=organization,
                day=scenarios.OCT + datetime.timedelta(days=4),
                tagset=tagsets[json.dumps(tags, sort_keys=True)],
                cost_input_nano=input_nano,
                cost_output_nano=output_nano,
                requests=requests,
                input_tokens=1000 * requests,
                output_tokens=100 * requests,
            )
    october = scenarios.issued(organization, world.user("a", "finance_analyst"), period=scenarios.OCT)
    with scope(organization=organization):
        previous = Statement.objects.get(owner__code="CC-1101", period=SEP)
        current = Statement.objects.get(owner__code="CC-1101", period=scenarios.OCT)
    assert (previous.total_amount, current.total_amount) == (Decimal("16.11"), Decimal("15.34"))
    summary = summary_of(october, statement=current)
    assert summary.previous == previous
    assert (summary.previous_change, summary.previous_change_pct) == (Decimal("-0.77"), Decimal("-4.8"))
    html = world.login("a", "budget_owner").get(url(current)).content.decode()
    assert "−0.77 USD <small>(-4.8%)</small>" in html
    assert f'<a href="/o/alpha/statements/{previous.pk}/">2026-09-CC-1101-v1</a>: 16.11 USD' in html
    assert september.billing_period.period == previous.period


def add_small_lines(issued, code="CC-1101", cents=(1, 2, 3, 4)) -> Statement:
    """Direct lines of a few cents each added to the draft, and its totals with them (a draft may change;
    the statement's check constraint keeps the total the sum of the sections)."""
    statement = issued.statement(code)
    with scope(organization=issued.organization):
        template = StatementLine.objects.filter(statement=statement, section="direct").first()
        last = StatementLine.objects.filter(statement=statement).order_by("-position").first().position
        for i, cent in enumerate(cents, start=1):
            StatementLine.objects.create(
                organization=issued.organization,
                statement=statement,
                position=last + i,
                section="direct",
                source_key=f"test:{last + i}",
                allocation_line=template.allocation_line,
                feature=f"tiny-{i}",
                provider="openai",
                model="gpt-4o-mini",
                cost_source="input",
                explanation="A tiny line",
                amount_nano=cent * 10_000_000,
                amount=Decimal(cent) / 100,
            )
        added = sum(cents) * 10_000_000
        Statement.objects.filter(pk=statement.pk).update(
            direct_nano=statement.direct_nano + added,
            total_nano=statement.total_nano + added,
            direct_amount=statement.direct_amount + Decimal(sum(cents)) / 100,
            total_amount=statement.total_amount + Decimal(sum(cents)) / 100,
            line_count=statement.line_count + len(cents),
        )
    return issued.statement(code)


def test_small_lines_are_one_row_that_opens_and_group_0_lists_them_all(world, issued):
    # 16.21 in total: 0.5% is 0.08105, so the four new lines (0.01-0.04) are small and the 0.33 shared is not.
    statement = add_small_lines(issued)
    assert statement.total_amount == Decimal("16.21")
    client = world.login("a", "budget_owner")
    html = client.get(url(statement)).content.decode()
    assert "4 small lines (each under 0.5% of the total) are grouped into one row per section." in html
    assert '<tr class="small-lines" id="small-direct">' in html
    assert "<summary>4 small lines (each under 0.5% of the total)</summary>" in html
    assert '<td class="num">0.10</td>' in html  # 0.01 + 0.02 + 0.03 + 0.04
    assert html.count('<tr class="small-lines"') == 1  # other sections have fewer than three small lines
    # the section still adds up: 15.01 + the row's 0.10
    assert '<h2>Direct cost <small class="muted">15.11 USD</small></h2>' in html
    # the summary counts them like any line: the feature breakdown still adds up to 16.21
    feature = {b.key: b for b in summary_of(issued).breakdowns}["feature"]
    assert sum(row.amount for row in feature.rows) == Decimal("16.21")

    every = client.get(url(statement, group=0)).content.decode()
    assert 'class="small-lines"' not in every
    assert "Every line is listed." in every
    assert every.count("A tiny line") == 4


def test_two_small_lines_are_not_worth_a_group(world, issued):
    statement = add_small_lines(issued, cents=(1, 2))
    html = world.login("a", "budget_owner").get(url(statement)).content.decode()
    assert 'class="small-lines"' not in html and html.count("A tiny line") == 2


def test_the_printable_view_lists_every_line_with_the_summary(world, issued):
    statement = add_small_lines(issued)
    path = reverse("statements:print", kwargs={"org_slug": "alpha", "pk": statement.pk})
    html = world.login("a", "budget_owner").get(path).content.decode()
    assert 'class="small-lines"' not in html and html.count("A tiny line") == 4
    assert 'id="summary"' in html


def test_the_csv_is_unchanged_by_the_grouping(world, issued):
    statement = add_small_lines(issued)
    path = reverse("statements:export", kwargs={"org_slug": "alpha", "pk": statement.pk})
    body = world.login("a", "budget_owner").get(path).content.decode()
    assert len(body.strip().splitlines()) == 1 + 8  # the header and every line, small ones too
    header = next(csv.reader(io.StringIO(body)))
    assert header == CSV_HEADER
    tiny = [row for row in csv.DictReader(io.StringIO(body)) if row["explanation"] == "A tiny line"]
    assert [row["amount"] for row in tiny] == ["0.01", "0.02", "0.03", "0.04"]


def test_the_statement_page_reads_a_bounded_number_of_queries(world, issued, django_assert_max_num_queries):
    client = world.login("a", "budget_owner")
    statement = add_small_lines(issued)
    with django_assert_max_num_queries(25) as few:
        client.get(url(statement))
    statement = add_small_lines(issued, cents=(5, 6, 7, 8, 9, 10, 11, 12))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url(statement))
