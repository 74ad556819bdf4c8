"""The showback dashboard: every figure equals a direct sum over the usage records it summarises (made
through the real ingest and priced by the shipped price book), a budget owner sees only their subtree,
another organisation's usage never shows, and the page reads a bounded number of queries."""

import datetime
import io
import json
from collections import defaultdict
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.showback.charts import stacked_chart
from apps.tenancy.roles import Role
from apps.usage.models import UsageRecord
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory

pytestmark = pytest.mark.django_db

OCT, NOV = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)
# (day, team, feature, customer, model, input tokens, output tokens); team None: no team tag.
EVENTS = [
    ("2026-10-03", "search", "answers", "cust_1", "gpt-4o", 1000, 100),
    ("2026-10-03", "search", "rewrite", "cust_2", "gpt-4o-mini", 4000, 900),
    ("2026-10-04", "support", "triage", "cust_1", "gpt-4o", 2000, 300),
    ("2026-10-09", "ghost", "answers", "cust_3", "gpt-4o", 500, 50),
    ("2026-10-20", None, "answers", "cust_2", "gpt-4o-mini", 800, 80),
    ("2026-10-31", "support", "triage", "cust_2", "gpt-4o", 3000, 200),
    ("2026-11-02", "search", "answers", "cust_1", "gpt-4o", 1500, 150),
    ("2026-11-02", "search", "answers", "cust_1", "gpt-4o", 1500, 150),
    ("2026-11-05", "support", "reply", "cust_3", "gpt-4o-mini", 6000, 700),
    ("2026-11-17", "support", "triage", "cust_1", "gpt-4o", 100, 10),
    ("2026-11-30", None, "answers", None, "gpt-4o", 700, 70),
]


def ingest(organization, events, prefix: str) -> None:
    lines = []
    for index, (day, team, feature, customer, model, tokens_in, tokens_out) in enumerate(events):
        tags = {"feature": feature, "environment": "production"}
        if team:
            tags["team"] = team
        if customer:
            tags["customer"] = customer
        lines.append(
            json.dumps(
                {
                    "request_id": f"{prefix}-{index}",
                    "occurred_at": f"{day}T10:00:00Z",
                    "provider": "openai",
                    "model": model,
                    "tags": tags,
                    "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
                }
            )
        )
    job, _ = ingest_job_create(
        organization=organization,
        actor=None,
        file_name=f"{prefix}.ndjson",
        stream=io.BytesIO(("\n".join(lines) + "\n").encode()),
        format="ndjson",
        channel="command",
        enqueue=False,
    )
    job = ingest_job_run(job_id=job.pk)
    assert job.accepted == len(events) and not job.unpriced_rows


def catalogue(organization, owner_user=None) -> None:
    with scope(organization=organization):
        team = TagDimensionFactory(organization=organization, key="team", position=10)
        feature = TagDimensionFactory(organization=organization, key="feature", position=20)
        TagDimensionFactory(organization=organization, key="environment", position=30)
        TagDimensionFactory(organization=organization, key="customer", position=40, granularity="detail")
        search = BudgetOwnerFactory(organization=organization, code="CC-SEARCH")
        support = BudgetOwnerFactory(organization=organization, code="CC-SUPPORT")
        TagValueFactory(dimension=team, value="search", owner=search)
        TagValueFactory(dimension=team, value="support", owner=support)
        TagValueFactory(dimension=team, value="ghost", owner=None)  # a team without a cost centre
        for value in ("answers", "rewrite", "triage", "reply"):
            TagValueFactory(dimension=feature, value=value)
        if owner_user is not None:
            search.owner_users.add(owner_user)


@pytest.fixture
def usage(world, price_book):
    catalogue(world.org("a"), owner_user=world.user("a", Role.BUDGET_OWNER))
    ingest(world.org("a"), EVENTS, "a")
    catalogue(world.org("b"))
    # Org b's usage: a team name org a does not have, and far larger amounts.
    ingest(world.org("b"), [("2026-10-03", "zeta", "answers", "cust_9", "gpt-4o", 900_000, 90_000)], "b")
    return world


def records(organization, first, last):
    with scope(organization=organization):
        return list(UsageRecord.objects.filter(day__gte=first, day__lte=last).select_related("tagset"))


def direct(organization, first, last, key) -> dict:
    """{value of ``key`` (a tag, or "customer" from the detail tags): [estimated nano, requests]}."""
    sums = defaultdict(lambda: [0, 0])
    for record in records(organization, first, last):
        value = (record.detail_tags if key == "customer" else record.tagset.tags).get(key) or "(missing)"
        sums[value][0] += record.estimated_nano
        sums[value][1] += record.request_count
    return dict(sums)


def page(client, slug="alpha", **params):
    response = client.get(reverse("showback:dashboard", kwargs={"org_slug": slug}), params)
    assert response.status_code == 200
    return response


def series_totals(figures) -> dict[str, int]:
    return {series.key: series.total for series in figures.spend.series}


def test_spend_by_team_per_month_equals_the_usage_records(usage, django_assert_max_num_queries):
    client = usage.login("a", "finance_analyst")
    with django_assert_max_num_queries(36):
        response = page(client, range="custom", from_month="2026-10", to_month="2026-11", grain="month", by="team")
    figures = response.context["figures"]
    organization = usage.org("a")
    first, last = OCT, datetime.date(2026, 11, 30)
    sums = direct(organization, first, last, "team")
    assert series_totals(figures) == {team: amount for team, (amount, _requests) in sums.items()}
    assert figures.total_nano == sum(amount for amount, _ in sums.values()) > 0
    assert figures.requests == 11
    # Per month: each column's cells are that month's records.
    for column, month_first, month_last in zip(
        figures.spend.columns, (OCT, NOV), (datetime.date(2026, 10, 31), last), strict=True
    ):
        month_sums = direct(organization, month_first, month_last, "team")
        keys = [series.key for series in figures.spend.series]
        assert dict(zip(keys, column.cells, strict=True)) == {key: month_sums.get(key, [0, 0])[0] for key in keys}
    # Unallocated: no team tag, or a team (ghost) without a cost centre.
    assert figures.unallocated_nano == sums["(missing)"][0] + sums["ghost"][0]
    # Month over month: November against the whole of October (the range ends on November's last day).
    october, november = (
        direct(organization, OCT, datetime.date(2026, 10, 31), "team"),
        direct(organization, NOV, last, "team"),
    )
    changes = {row.key: (row.now, row.before) for row in figures.changes}
    for team in set(october) | set(november):
        assert changes[team] == (november.get(team, [0])[0], october.get(team, [0])[0])
    # Cost per request by feature.
    features = direct(organization, first, last, "feature")
    assert {row.key: (row.amount_nano, row.requests) for row in figures.per_request} == {
        key: tuple(value) for key, value in features.items()
    }
    html = response.content.decode()
    assert "zeta" not in html  # org b's team


def test_days_drill_down_to_the_explorer_with_the_same_filters(usage):
    client = usage.login("a", "finance_analyst")
    response = page(client, range="custom", from_month="2026-10", to_month="2026-10", grain="day", f_feature="answers")
    figures = response.context["figures"]
    organization = usage.org("a")
    assert len(figures.spend.columns) == 31
    third = figures.spend.columns[2]
    with scope(organization=organization):
        expected = sum(
            r.estimated_nano
            for r in UsageRecord.objects.filter(day=datetime.date(2026, 10, 3)).select_related("tagset")
            if r.tagset.tags.get("feature") == "answers"
        )
    assert third.total == expected > 0
    (segment,) = third.segments  # only search used "answers" on the 3rd
    assert segment.key == "search"
    url = urlparse(segment.href)
    assert url.path == reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    assert parse_qs(url.query) == {
        "date_from": ["2026-10-03"],
        "date_to": ["2026-10-03"],
        "tag_feature": ["answers"],
        "tag_team": ["search"],
        "group_by": ["model"],  # the team is chosen: the explorer breaks it down further
    }
    # The explorer opened there shows the same figure, and links on to the requests.
    explorer = client.get(segment.href)
    assert explorer.context["totals"]["cost_nano"] == segment.value
    assert reverse("usage:records", kwargs={"org_slug": "alpha"}) in explorer.content.decode()


def test_spend_by_customer_comes_from_the_detail_totals(usage):
    client = usage.login("a", "finance_analyst")
    figures = page(client, range="custom", from_month="2026-10", to_month="2026-11", by="customer").context["figures"]
    sums = direct(usage.org("a"), OCT, datetime.date(2026, 11, 30), "customer")
    sums.pop("(missing)")  # a request without a customer has no detail row
    assert series_totals(figures) == {key: amount for key, (amount, _requests) in sums.items()}


def test_spend_by_cost_source_splits_the_estimate(usage):
    client = usage.login("a", "finance_analyst")
    figures = page(client, range="custom", from_month="2026-11", to_month="2026-11", by="cost_source").context[
        "figures"
    ]
    rows = records(usage.org("a"), NOV, datetime.date(2026, 11, 30))
    assert series_totals(figures) == {
        "input": sum(r.cost_input_nano for r in rows),
        "output": sum(r.cost_output_nano for r in rows),
    }
    assert figures.total_nano == sum(r.estimated_nano for r in rows)
    assert figures.requests == len(rows)  # every source is a share of the same requests: counted once


def test_a_budget_owner_sees_only_their_subtree(usage, django_assert_max_num_queries):
    client = usage.login("a", "budget_owner")
    # More than finance: the owner's subtree, and the tag sets of their teams before each read.
    with django_assert_max_num_queries(46):
        response = page(client, range="custom", from_month="2026-10", to_month="2026-11", grain="month")
    figures = response.context["figures"]
    sums = direct(usage.org("a"), OCT, datetime.date(2026, 11, 30), "team")
    assert series_totals(figures) == {"search": sums["search"][0]}
    assert figures.total_nano == sums["search"][0] and figures.requests == sums["search"][1]
    assert figures.unallocated_nano == 0 and figures.restricted
    form = response.context["form"]
    assert [value for value, _label in form.fields["f_team"].choices] == ["", "search"]
    html = response.content.decode()
    assert "support" not in html and "ghost" not in html


def test_another_organisations_spend_never_shows(usage):
    figures = page(
        usage.login("b", "finance_analyst"), slug="beta", range="custom", from_month="2026-10", to_month="2026-11"
    ).context["figures"]
    sums = direct(usage.org("b"), OCT, datetime.date(2026, 11, 30), "team")
    assert series_totals(figures) == {"zeta": sums["zeta"][0]}
    # Org a's members cannot open org b's dashboard.
    response = usage.login("a", "finance_analyst").get(reverse("showback:dashboard", kwargs={"org_slug": "beta"}))
    assert response.status_code == 404


def test_the_default_is_the_current_month_or_the_latest_month_with_usage(usage):
    response = page(usage.login("a", "finance_analyst"))
    query = response.context["query"]
    # The clock is past November 2026 and there is no later usage: "this month" is November, by day.
    assert (query.first, query.last, query.grain, query.by) == (NOV, datetime.date(2026, 11, 30), "day", "team")
    assert "the latest month with usage" in response.content.decode()


def test_filters_are_pickers_of_the_organisations_values(usage):
    form = page(usage.login("a", "finance_analyst")).context["form"]
    assert [v for v, _ in form.fields["f_team"].choices] == ["", "ghost", "search", "support"]
    assert [v for v, _ in form.fields["f_model"].choices] == ["", "gpt-4o", "gpt-4o-mini"]
    assert [v for v, _ in form.fields["f_customer"].choices] == ["", "cust_1", "cust_2", "cust_3"]


def test_the_chart_is_accessible_and_its_figures_are_a_table(usage):
    html = page(
        usage.login("a", "finance_analyst"), range="custom", from_month="2026-10", to_month="2026-11", grain="month"
    ).content.decode()
    assert 'role="img"' in html and '<title id="spend-title">' in html and '<desc id="spend-desc">' in html
    assert "<caption>Spend by team per month" in html


def test_stacked_chart_keeps_the_top_series_and_folds_the_rest():
    chart = stacked_chart(
        title="t",
        columns=[("a", "A"), ("b", "B")],
        values={"a": {"x": 60, "y": 30, "z": 10}, "b": {"x": 20, "w": 5}},
        top=2,
        unit="money",
    )
    assert [(s.key, s.total) for s in chart.series] == [("x", 80), ("y", 30), ("other", 15)]
    first, second = chart.columns
    assert first.cells == [60, 30, 10] and second.cells == [20, 0, 5]
    assert [seg.height for seg in first.segments] == [60, 30, 10]  # the tallest column is 100 high
    assert [seg.y for seg in first.segments] == [40, 10, 0]
