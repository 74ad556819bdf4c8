import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.selectors import PLATFORM_OVERHEAD_THRESHOLD_PCT
from apps.reconciliation.services import reconciliation_run_create
from tests.factories.reconciliation import ReconciliationLineFactory, ReconciliationRunFactory

from .conftest import OCT

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("reconciliation:overview", kwargs={"org_slug": "alpha"})
RUN = reverse("reconciliation:run_create", kwargs={"org_slug": "alpha"})


def runs(world):
    with scope(organization=world.org("a")):
        return list(ReconciliationRun.objects.order_by("pk"))


def test_analyst_runs_reconciliation_from_the_page(world, october):
    client = world.login("a", "finance_analyst")
    page = client.get(OVERVIEW, {"period": "2026-10"})
    assert page.status_code == 200
    assert b"has not been reconciled yet (3 invoices received)" in page.content
    assert b"Run reconciliation for 2026-10" in page.content
    response = client.post(RUN, {"period": "2026-10"})
    assert response.status_code == 302
    assert response["Location"] == f"{OVERVIEW}?period=2026-10"
    [run] = runs(world)
    assert run.created_by == world.user("a", "finance_analyst")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Reconciled 2026-10: outside tolerance (tolerance 5%)." in html
    # the provider table: amounts, variance %, green/red badges, drill-down links
    assert '<td class="num">94.99</td><td class="num">100.00</td>' in html
    assert '<span class="badge badge-bad">outside</span>' in html
    assert '<span class="badge badge-ok">within</span>' in html
    assert "+5.01%" in html and "+5.00%" in html
    assert "/o/alpha/usage/?month=2026-10&amp;provider=anthropic" in html
    assert "/o/alpha/invoices/?period=2026-10&amp;provider=anthropic" in html
    # charts are server-side SVG / CSS, one per provider by day
    assert html.count('<svg role="img"') == 4  # the daily charts; the variance bars are svg too
    assert html.count('<svg class="bar"') == 5
    assert "gpt-4o-mini" in html and "(no model)" in html
    assert "Unallocated, until allocation runs exist" in html
    assert f"red above {PLATFORM_OVERHEAD_THRESHOLD_PCT}%" in html
    assert "<script" not in html.split("</head>")[1]  # no JS library in the page body


def test_the_run_button_needs_prepare_period(world, october):
    viewer = world.login("a", "viewer")
    page = viewer.get(OVERVIEW, {"period": "2026-10"})
    assert page.status_code == 200
    assert b"Run reconciliation" not in page.content
    assert viewer.post(RUN, {"period": "2026-10"}).status_code == 403
    assert runs(world) == []


def test_budget_owners_cannot_see_reconciliation(world, october):
    owner = world.login("a", "budget_owner")
    assert owner.get(OVERVIEW).status_code == 403


def test_a_bad_period_is_refused_with_a_message(world):
    client = world.login("a", "finance_admin")
    response = client.post(RUN, {"period": "2026-13"}, follow=True)
    assert b"Choose the month to reconcile as YYYY-MM" in response.content
    assert runs(world) == []


def test_history_and_an_earlier_run(world, october):
    first = reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    second = reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    client = world.login("a", "finance_analyst")
    overview = client.get(OVERVIEW, {"period": "2026-10"})
    assert overview.context["run"] == second
    assert [r.pk for r in overview.context["history"]] == [second.pk, first.pk]
    earlier = client.get(reverse("reconciliation:run_detail", kwargs={"org_slug": "alpha", "pk": first.pk}))
    assert earlier.context["run"] == first
    assert b"earlier run" in earlier.content


def test_trend_shows_the_latest_run_of_each_period(world):
    organization = world.org("a")
    with scope(organization=organization):
        import datetime

        old = ReconciliationRunFactory(organization=organization, period=datetime.date(2026, 9, 1))
        ReconciliationLineFactory(run=old, provider="openai", variance_pct=Decimal("7.50"), within_tolerance=False)
        newer = ReconciliationRunFactory(organization=organization, period=datetime.date(2026, 9, 1))
        ReconciliationLineFactory(run=newer, provider="openai", variance_pct=Decimal("1.25"))
        october_run = ReconciliationRunFactory(organization=organization, period=OCT)
    page = world.login("a").get(OVERVIEW)
    assert page.context["period"] == OCT  # the latest reconciled period by default
    trend = page.context["trend"]
    assert [row["run"] for row in trend] == [newer, october_run]
    assert [line.variance_pct for line in trend[0]["providers"]] == [Decimal("1.25")]
    assert b"openai +1.25%" in page.content and b"openai +7.50%" not in page.content


def test_csv_export_has_every_line_with_exact_amounts(world, october):
    run = reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    response = world.login("a", "viewer").get(
        reverse("reconciliation:run_export", kwargs={"org_slug": "alpha", "pk": run.pk})
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"reconciliation-alpha-2026-10-run{run.pk}.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4 + 5 + 7 + 6
    anthropic = next(r for r in rows if r["level"] == "provider" and r["provider"] == "anthropic")
    assert anthropic == {
        "run": str(run.pk),
        "period": "2026-10",
        "level": "provider",
        "provider": "anthropic",
        "key": "",
        "currency": "USD",
        "estimated": "94.990000000",
        "invoiced": "100.000000000",
        "variance": "5.010000000",
        "variance_pct": "5.01",
        "within_tolerance": "no",
        "note": "",
    }
    monthly_day = next(r for r in rows if r["level"] == "day" and r["provider"] == "anthropic")
    assert (monthly_day["invoiced"], monthly_day["within_tolerance"]) == ("", "")


def test_home_shows_the_readiness_panel_to_finance_and_hides_it_from_owners(world, october):
    reconciliation_run_create(organization=world.org("a"), period=OCT, actor=None)
    home = reverse("portal:home", kwargs={"org_slug": "alpha"})
    html = world.login("a", "finance_analyst").get(home).content.decode()
    assert "Chargeback readiness" in html
    assert '<td>anthropic</td><td class="num"><span class="badge badge-bad">+5.01%</span>' in html
    assert '<td>openai</td><td class="num"><span class="badge badge-ok">+5.00%</span>' in html
    assert 'Requests lacking team</dt><dd><span class="badge badge-bad">30</span>' in html
    assert 'Requests lacking feature</dt><dd><span class="badge badge-bad">7</span>' in html
    assert '<span class="badge badge-ok">10.36%</span>' in html  # under the 20 % threshold
    assert "Chargeback readiness" not in world.login("a", "budget_owner").get(home).content.decode()


def test_readiness_turns_red_above_the_overhead_threshold_and_green_without_gaps(world):
    organization = world.org("a")
    with scope(organization=organization):
        run = ReconciliationRunFactory(
            organization=organization,
            platform_overhead_pct=Decimal("20.01"),
            untagged={"team": {"requests": 0, "cost_nano": 0}, "feature": {"requests": 0, "cost_nano": 0}},
        )
        ReconciliationLineFactory(run=run)
    html = world.login("a").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content.decode()
    assert '<span class="badge badge-bad">20.01%</span>' in html
    assert 'Requests lacking team</dt><dd><span class="badge badge-ok">0</span>' in html
    with scope(organization=organization):
        run.platform_overhead_pct = Decimal("20.00")
        run.save()
    html = world.login("a").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content.decode()
    assert '<span class="badge badge-ok">20.00%</span>' in html


def test_home_without_any_run_says_so(world):
    html = world.login("a").get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content.decode()
    assert "No period has been reconciled yet." in html
