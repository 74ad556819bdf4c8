"""The home page in a real browser, for finance and for a budget owner: the three questions answered with the
figures of the usage planted (the same rows and hand-added sums as tests/portal/test_home.py), the links from a
figure to the explorer and from an inbox item to its page, no page scrolling sideways on a phone, no script or
Content-Security-Policy error.

Same browser and sign-in as the month-end walk (tests/test_browser_month_end.py); BROWSER_SCREENSHOTS=<dir>
saves each page at desktop and phone width for a person to look at."""

import pytest
from django_scopes import scope

from apps.portal import views
from tests.factories.invoices import InvoiceIngestJobFactory
from tests.portal.test_home import NOW, _plant
from tests.test_browser_month_end import (  # noqa: F401 (fixtures)
    PHONE,
    _emptied_past_the_triggers,
    browser,
    log_in,
    page_width_at_phone_size,
    screenshot,
    script_problems,
)
from tests.world import build_world


@pytest.fixture
def planted_org(_emptied_past_the_triggers, monkeypatch):  # noqa: F811
    """Alpha and Beta with the home tests' usage (Beta's a hundred times larger), budgets and cost centres; a
    failed invoice import in Alpha; the home page's day fixed at 7 December 2026."""
    world = build_world()
    _plant(world, "b", scale=100)
    _plant(world, "a")
    organization = world.org("a")
    with scope(organization=organization):
        job = InvoiceIngestJobFactory(
            organization=organization, status="failed", file_name="bill.csv", sha256="c" * 64, error_message="No rows."
        )
    # The live server runs in this process: the home's day is the one the figures were added up for.
    monkeypatch.setattr(views, "_now", lambda: NOW)
    return {
        "analyst": world.user("a", "finance_analyst").username,
        "owner": world.user("a", "budget_owner").username,
        "job": job.pk,
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_home_answers_the_three_questions_in_a_browser(planted_org, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    analyst = log_in(browser, live_server, planted_org["analyst"])
    analyst.goto("/o/alpha/")
    spend = analyst.locator("#spend")
    # 3.00 + 0.50 + 1.25 + 2.00 this month; 1.00 + 4.00 in November to the 7th; November 15.25; December 2025 7.00
    for text in ("December to date", "6.75", "November 2026", "15.25", "December 2025", "7.00", "+35.00%"):
        expect(spend).to_contain_text(text)
    compared = analyst.locator("#compared")
    expect(compared.locator("tr", has_text="Budget for December")).to_contain_text("25.00")
    expect(compared.locator("tr", has_text="Budget for December")).to_contain_text("27.0%")
    expect(compared).to_contain_text("No forecast for this month yet.")
    expect(compared).to_contain_text("8.00 EUR")
    inbox = analyst.locator("#inbox")
    expect(inbox.locator("#inbox-imports")).to_contain_text("bill.csv")
    movers = analyst.locator("#movers tbody").first.locator("tr")
    expect(movers).to_have_count(4)
    expect(movers.nth(0)).to_contain_text("ads")
    expect(movers.nth(3)).to_contain_text("(no team)")
    expect(analyst.locator("main")).not_to_contain_text("675.00")  # Beta's month to date
    screenshot(analyst, "home-finance")
    assert page_width_at_phone_size(analyst) <= PHONE["width"]

    # A figure leads to the explorer over the same days, which adds up to the same amount.
    spend.get_by_role("link", name="December to date").click()
    expect(analyst.locator("h1")).to_contain_text("Usage")
    expect(analyst.locator("main")).to_contain_text("6.75")
    # An inbox item leads to where it is dealt with.
    analyst.goto("/o/alpha/")
    analyst.locator("#inbox-imports").get_by_role(
        "link", name=f"Invoice import #{planted_org['job']}: bill.csv"
    ).click()
    expect(analyst.locator("h1")).to_contain_text("bill.csv")

    # A budget owner sees their cost centres only: Search and its child Labs.
    owner = log_in(browser, live_server, planted_org["owner"])
    owner.goto("/o/alpha/")
    expect(owner.locator("main")).to_contain_text("Spend of your cost centres")
    owner_spend = owner.locator("#spend")
    for text in ("4.25", "11.00", "+325.00%"):
        expect(owner_spend).to_contain_text(text)
    expect(owner_spend).not_to_contain_text("6.75")
    expect(owner.locator("#compared tr", has_text="Budget for December")).to_contain_text("20.00")
    expect(owner.locator("#inbox")).to_contain_text("Nothing is waiting for you.")
    expect(owner.locator("#my-statements")).to_be_visible()
    screenshot(owner, "home-owner")
    assert page_width_at_phone_size(owner) <= PHONE["width"]

    assert script_problems(analyst, owner) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_showback_dashboard_in_a_browser(planted_org, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    analyst = log_in(browser, live_server, planted_org["analyst"])
    analyst.goto("/o/alpha/showback/")
    expect(analyst.locator("h1")).to_have_text("Showback")
    # The pickers: November 2026 by team, chosen from the organisation's months, not typed.
    form = analyst.locator("form.filters")
    # (each label wraps its <select>, options included, so the selects are found by name)
    form.locator("select[name=range]").select_option(label="Custom months")
    form.locator("select[name=from_month]").select_option(label="November 2026")
    form.locator("select[name=to_month]").select_option(label="November 2026")
    form.locator("select[name=by]").select_option("team")
    form.get_by_role("button", name="Apply").click()
    # November: search 1.00 + 10.00, ads 4.00 + 0.25; nothing untagged
    spend_card = analyst.locator("section.card", has=analyst.get_by_role("heading", name="Spend", exact=True))
    expect(spend_card).to_contain_text("15.25 USD")
    unallocated = analyst.locator("section.card", has=analyst.get_by_role("heading", name="Unallocated"))
    expect(unallocated).to_contain_text("0.00 USD")
    chart = analyst.locator("svg.chart.stacked").first
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).not_to_be_empty()
    table = analyst.locator(".chart-data table").first
    expect(table.locator("tfoot")).to_contain_text("15.25")
    screenshot(analyst, "dashboard-finance")
    assert page_width_at_phone_size(analyst) <= PHONE["width"]
    # December, the whole month: 6.75 to the 7th and 50.00 on the 8th; the untagged 0.50 is unallocated.
    analyst.goto("/o/alpha/showback/?range=custom&from_month=2026-12&to_month=2026-12&by=team")
    expect(spend_card).to_contain_text("56.75 USD")
    expect(unallocated).to_contain_text("0.50 USD")
    # A row of the chart's table drills down to the explorer over the same days.
    table.locator("tbody a").first.click()
    expect(analyst.locator("h1")).to_contain_text("Usage")

    # A budget owner's dashboard is their subtree: November's search 11.00 (Labs spent nothing then).
    owner = log_in(browser, live_server, planted_org["owner"])
    owner.goto("/o/alpha/showback/?range=custom&from_month=2026-11&to_month=2026-11&by=team")
    expect(owner.locator("main")).to_contain_text("You see the spend of your cost centres only.")
    owner_spend = owner.locator("section.card", has=owner.get_by_role("heading", name="Spend", exact=True))
    expect(owner_spend).to_contain_text("11.00 USD")
    expect(owner.locator("main")).not_to_contain_text("15.25")
    screenshot(owner, "dashboard-owner")
    assert page_width_at_phone_size(owner) <= PHONE["width"]

    assert script_problems(analyst, owner) == []
