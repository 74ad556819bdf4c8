"""The layout on a phone (390 px) and a desktop, in a real browser: no page scrolls sideways (a wide table
scrolls inside its own box), and the navigation collapses into its groups, which open and close.

Same browser and sign-in as the month-end walk (tests/test_browser_month_end.py); BROWSER_SCREENSHOTS=<dir>
saves each page at both widths for a person to look at."""

import os
from pathlib import Path

import pytest
from django_scopes import scope

from apps.pricing.services import price_book_load_default
from apps.statements.models import Statement
from apps.tenancy.roles import Role
from tests import scenarios
from tests.test_browser_month_end import (  # noqa: F401 (fixtures)
    PHONE,
    _emptied_past_the_triggers,
    browser,
    log_in,
    script_problems,
)
from tests.world import build_world

DESKTOP = {"width": 1400, "height": 900}


@pytest.fixture
def issued_month(_emptied_past_the_triggers):  # noqa: F811
    """Alpha with the list prices and October issued as draft statements; the budget owner owns CC-1101."""
    world = build_world()
    price_book_load_default()
    organization = world.org("a")
    scenarios.issued(organization, world.user("a", Role.FINANCE_ANALYST), owner_user=world.user("a", Role.BUDGET_OWNER))
    with scope(organization=organization):
        statement = Statement.objects.get(owner__code="CC-1101", version=1)
    return {
        "analyst": world.user("a", Role.FINANCE_ANALYST).username,
        "owner": world.user("a", Role.BUDGET_OWNER).username,
        "statement": f"/o/alpha/statements/{statement.pk}/",
    }


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def shoot(page, name: str) -> None:
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_page_scrolls_sideways(issued_month, live_server, browser, viewport):  # noqa: F811
    analyst = log_in(browser, live_server, issued_month["analyst"], viewport=viewport)
    pages = {
        "home": "/o/alpha/",
        "usage-explorer": "/o/alpha/usage/?month=2026-10",
        "statement": issued_month["statement"],
        "statement-every-line": issued_month["statement"] + "?group=0",
        "periods-board": "/o/alpha/periods/",
        "price-book": "/o/alpha/pricing/",
    }
    for name, url in pages.items():
        analyst.goto(url)
        assert analyst.locator("h1").count() == 1, name
        assert page_width(analyst) <= viewport["width"], (name, page_width(analyst))
        shoot(analyst, f"layout-{name}-{viewport['width']}")
    # The price book's table is wider than a phone: it scrolls inside its own box, the page does not.
    analyst.goto("/o/alpha/pricing/")
    table = analyst.locator("main table").first
    scroll_width, client_width = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    if viewport is PHONE:
        assert scroll_width > client_width
    assert not script_problems(analyst)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_navigation_collapses_into_groups_on_a_phone(issued_month, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    owner = log_in(browser, live_server, issued_month["owner"], viewport=PHONE)
    groups = owner.locator("nav.mainnav > details.navgroup > summary")
    expect(groups).to_have_text(["Spend", "Close", "Data"])
    # Closed, a group's entries are not shown; the groups fit on one line.
    expect(owner.locator(".mainnav").get_by_role("link", name="Statements")).to_be_hidden()
    tops = {round(box["y"]) for box in (groups.nth(i).bounding_box() for i in range(3))}
    assert len(tops) == 1
    owner.locator("summary", has_text="Close").click()
    expect(owner.locator(".mainnav").get_by_role("link", name="Statements")).to_be_visible()
    expect(owner.locator(".mainnav").get_by_role("link", name="Disputes")).to_be_visible()
    assert page_width(owner) <= PHONE["width"]
    menu = owner.locator("details.navgroup[open] ul").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"]
    # Opening another group closes the first (portal.js); Escape closes it too.
    owner.locator("summary", has_text="Data").click()
    expect(owner.locator("details.navgroup[open] > summary")).to_have_text(["Data"])
    owner.keyboard.press("Escape")
    expect(owner.locator("details.navgroup[open]")).to_have_count(0)
    # An entry leads to its page, whose group is marked and listed below the bar.
    owner.locator("summary", has_text="Close").click()
    owner.locator(".mainnav").get_by_role("link", name="Statements").click()
    expect(owner.locator("h1")).to_have_text("Statements")
    expect(owner.locator("details.navgroup.is-current > summary")).to_have_text("Close")
    expect(owner.locator("nav.subnav a[aria-current=page]")).to_have_text("Statements")
    owner.goto(issued_month["statement"])
    expect(owner.locator("#summary")).to_contain_text("Total charged")
    assert page_width(owner) <= PHONE["width"]
    shoot(owner, "layout-owner-statement-390")
    assert not script_problems(owner)
