"""The month-end walk in a real browser (Playwright driving Debian's chromium) against a live server.

Every step is done the way its person does it, through the portal's pages, and every check reads what the
page shows (text, amounts, statuses), never the database:

an analyst uploads a month of usage (NDJSON) and the provider's invoice (CSV), reconciles, allocates and
starts reconciliation; a finance admin submits the period for review (the preparer); a budget owner opens
their draft statement and disputes a line; approval is blocked while the dispute is open; finance accepts
the dispute; the preparer's approval is refused (maker-checker), a second finance admin approves and closes;
the budget owner sees the final statement with the credit.

The browser is /usr/bin/chromium from apt (`.ci/run` installs it); Playwright downloads nothing. Without it
the test is skipped on a developer's machine and fails under CI=true. BROWSER_SCREENSHOTS=/some/dir saves
full-page screenshots of a few pages, at desktop and at phone width (390 px), for a person to look at.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import connection
from django_scopes import scope

from apps.allocation.rules.services import draft_publish
from apps.owners.models import BudgetOwner
from apps.pricing.services import price_book_load_default
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.allocation import rule_set_with_draft
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory
from tests.mfa import enrol_authenticator
from tests.world import build_world

CHROMIUM = "/usr/bin/chromium"
# This machine (and CI) has no network: nothing in the background may try to reach out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# October 2026 of openai gpt-4o at list price (input $2.50/M, output $10.00/M):
# search: 2 requests of 1,000,000 in + 150,000 out = 2 x (2.50 + 1.50) = 8.00 (input 5.00, output 3.00)
# ads:    1 request of 800,000 in = 2.00
# One more line is refused (negative tokens) and the good rows are kept. Estimated 10.00.
USAGE_NDJSON = b"""\
{"request_id": "oct-s1", "occurred_at": "2026-10-05T09:00:00Z", "provider": "openai", "model": "gpt-4o", \
"tags": {"team": "search"}, "usage": {"input_tokens": 1000000, "output_tokens": 150000}}
{"request_id": "oct-s2", "occurred_at": "2026-10-12T15:30:00Z", "provider": "openai", "model": "gpt-4o", \
"tags": {"team": "search"}, "usage": {"input_tokens": 1000000, "output_tokens": 150000}}
{"request_id": "oct-a1", "occurred_at": "2026-10-20T11:00:00Z", "provider": "openai", "model": "gpt-4o", \
"tags": {"team": "ads"}, "usage": {"input_tokens": 800000, "output_tokens": 0}}
{"request_id": "oct-bad", "occurred_at": "2026-10-21T11:00:00Z", "provider": "openai", "model": "gpt-4o", \
"tags": {"team": "ads"}, "usage": {"input_tokens": -5, "output_tokens": 0}}
"""
# The invoice says 10.20: +0.20 over the estimate (1.96% of the invoice, inside the 5% tolerance). The true-up
# is shared in proportion to the estimate: search 0.16, ads 0.04.
INVOICE_CSV = b"""\
provider,invoice_number,date,description,model,cost_source,amount,currency,charge_category
openai,OAI-2026-10,2026-10-31,GPT-4o input,gpt-4o,input,7.70,USD,Usage
openai,OAI-2026-10,2026-10-31,GPT-4o output,gpt-4o,output,2.50,USD,Usage
"""


# --- the browser ------------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    # In CI a missing browser is a failure, never a quiet skip (.ci/run installs it).
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI is set but {reason}: .ci/run installs chromium with apt", pytrace=False)
    pytest.skip(reason)


def chromium_or_skip() -> str:
    """The browser's path, once it and Playwright are known to be there (else skip, or fail under CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements/dev.txt)")
    return CHROMIUM


@pytest.fixture
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    # Two cores shared with other work: give pages and assertions more than the default 5 s.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            expect.set_options(timeout=5_000)


def log_in(browser, live_server, username: str, *, authenticator: dict | None = None, viewport: dict = DESKTOP):
    """The one place a person signs in: a fresh browser context (its own cookies) through the login page,
    then, for someone with an authenticator (finance and org admins), the second step with the code the
    authenticator shows now. Returns the page, on the organisation's home.

    While the browser runs, this thread cannot use the ORM (Playwright's event loop makes Django refuse with
    SynchronousOnlyOperation): whatever a sign-in needs from the database is read before the walk starts."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if authenticator is not None:
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        page.locator("input[name=otp_token]").fill(current_code(authenticator))
        page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".userbox .who")).to_contain_text(username.title())
    return page


def current_code(authenticator: dict) -> str:
    """The 6-digit code an authenticator app shows now for this key (RFC 6238, as django-otp checks it)."""
    from django_otp.oath import TOTP

    return (
        f"{TOTP(authenticator['key'], authenticator['step'], authenticator['t0'], authenticator['digits']).token():06d}"
    )


def authenticator_for(user) -> dict:
    """Enrol an authenticator app for the person, and keep what the app keeps (the key), so that codes can be
    made while the browser runs and the ORM cannot be used."""
    device = enrol_authenticator(user)
    return {"key": device.bin_key, "step": device.step, "t0": device.t0, "digits": device.digits}


def script_problems(*pages) -> list[str]:
    """What the pages said went wrong in the browser: console errors (a Content-Security-Policy violation, a
    failed load) and uncaught script errors. The expected one is left out: the refused approval answers 403."""
    problems = []
    for page in pages:
        for message in page.console_messages(filter="all"):
            url = message.location.get("url", "")
            expected = "status of 403" in message.text and url.endswith("/periods/2026-10/transition/")
            if message.type == "error" and not expected:
                problems.append(f"{page.url}: {message.text} ({url})")
        problems += [f"{page.url}: {error}" for error in page.page_errors(filter="all")]
    return problems


def page_width_at_phone_size(page) -> int:
    """How wide the page lays out in a 390 px viewport: wider means the whole page scrolls sideways."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    return width


def screenshot(page, name: str) -> None:
    """With BROWSER_SCREENSHOTS=<dir>: the page as it is, then at phone width (the layout reflows; no reload,
    which would post a form again)."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=f"{folder}/{name}.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{folder}/{name}-390.png", full_page=True)
    page.set_viewport_size(DESKTOP)


# --- the database ------------------------------------------------------------------------------------


@pytest.fixture
def _emptied_past_the_triggers(transactional_db):
    """A live server needs a transactional test, which empties the tables afterwards; the walk leaves rows
    that triggers forbid deleting (final statements, published rules, the audit log). PostgreSQL empties
    them with TRUNCATE, which row triggers do not see; SQLite deletes row by row, so here the triggers are
    set aside while the tables are emptied, then put back as they were."""
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            connection.ops.execute_sql_flush(sql_flush(no_style(), connection))
        finally:
            for _name, sql in triggers:
                cursor.execute(sql)


# --- the organisation -------------------------------------------------------------------------------


@pytest.fixture
def october(_emptied_past_the_triggers, eager_celery):
    """Alpha Corp in chargeback with the list prices, cost centres CC-1101 Search and CC-1201 Ads, a team tag
    that maps to them and a published rule set; a second finance admin; the budget owner of Search.
    (Celery runs in-process even when CI configures a broker: the live server's uploads finish in the
    request, as on the embedded default.)"""
    world = build_world()
    price_book_load_default()
    organization = world.org("a")
    Organization.objects.filter(pk=organization.pk).update(mode=Organization.Mode.CHARGEBACK)
    organization.refresh_from_db()
    checker = UserFactory(username="alpha-finance_admin2")
    with scope(organization=organization):
        MembershipFactory(organization=organization, user=checker, role=Role.FINANCE_ADMIN)
        search = BudgetOwner.objects.create(organization=organization, code="CC-1101", name="Search")
        ads = BudgetOwner.objects.create(organization=organization, code="CC-1201", name="Ads")
        search.owner_users.add(world.user("a", Role.BUDGET_OWNER))
        team = TagDimensionFactory(organization=organization, key="team", label="Team")
        TagValueFactory(dimension=team, organization=organization, value="search", owner=search)
        TagValueFactory(dimension=team, organization=organization, value="ads", owner=ads)
    rules = {
        "true_up": {"mode": "full_cost", "central_owner": None},
        "rules": [{"kind": "tag_map", "name": "Teams", "dimension": "team", "conditions": []}],
    }
    draft_publish(draft=rule_set_with_draft(organization, rules), actor=None)
    preparer = world.user("a", Role.FINANCE_ADMIN)
    return {
        "analyst": world.user("a", Role.FINANCE_ANALYST).username,
        "preparer": preparer.username,
        "checker": checker.username,
        # Finance admins move money: they sign in with a second factor.
        "authenticators": {
            preparer.username: authenticator_for(preparer),
            checker.username: authenticator_for(checker),
        },
        "owner": world.user("a", Role.BUDGET_OWNER).username,
    }


# --- the walk ---------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_month_end_walk_in_a_browser(october, live_server, browser):
    from playwright.sync_api import expect

    started = time.monotonic()
    org = "/o/alpha"
    messages = ".messages"

    # The analyst uploads the month's usage: three rows accepted and priced, the bad one named.
    analyst = log_in(browser, live_server, october["analyst"])
    analyst.goto(f"{org}/usage/imports/")
    analyst.set_input_files(
        "#id_file", files=[{"name": "october.ndjson", "mimeType": "application/x-ndjson", "buffer": USAGE_NDJSON}]
    )
    analyst.get_by_role("button", name="Upload and ingest").click()
    # The number is the job id: PostgreSQL sequences go on across tests, so any number will do.
    expect(analyst.locator("h1")).to_have_text(re.compile(r"^Import #\d+: october\.ndjson$"))
    progress = analyst.locator("#job-progress")
    expect(progress).to_contain_text("succeeded")
    expect(progress).to_contain_text("4 read: 3 accepted, 0 duplicates, 1 rejected")
    expect(progress).to_contain_text("10.00 USD")
    expect(analyst.locator("table").last).to_contain_text("october.ndjson:4")
    expect(analyst.locator("table").last).to_contain_text("usage.input_tokens")

    # ... and the provider's invoice.
    analyst.goto(f"{org}/invoices/imports/")
    analyst.set_input_files(
        "#id_file", files=[{"name": "openai-2026-10.csv", "mimeType": "text/csv", "buffer": INVOICE_CSV}]
    )
    analyst.get_by_role("button", name="Upload and ingest").click()
    expect(analyst.locator("#import-progress")).to_contain_text("2 read: 2 stored, 0 duplicates, 0 rejected")
    invoice_row = analyst.locator("tr", has_text="OAI-2026-10")
    expect(invoice_row).to_contain_text("2026-10")
    expect(invoice_row).to_contain_text("10.20")

    # Reconcile: estimated 10.00, invoiced 10.20, within the tolerance.
    analyst.goto(f"{org}/reconciliation/?period=2026-10")
    analyst.get_by_role("button", name="Run reconciliation for 2026-10").click()
    expect(analyst.locator(messages)).to_contain_text("Reconciled 2026-10: within tolerance (tolerance 5%).")
    openai_row = analyst.locator("tr", has=analyst.locator("td", has_text="openai")).first
    expect(openai_row).to_contain_text("10.00")
    expect(openai_row).to_contain_text("10.20")
    expect(openai_row).to_contain_text("within")

    # Allocate: all of it to the two cost centres, nothing unallocated.
    analyst.goto(f"{org}/allocation/2026-10/")
    analyst.get_by_role("button", name="Allocate now").click()
    expect(analyst.locator(messages)).to_contain_text("Allocated 2026-10 with Allocation rules v1")
    expect(analyst.locator(messages)).to_contain_text("Unallocated 0.00 USD.")
    expect(analyst.locator("tr", has_text="CC-1101")).to_contain_text("8.16")
    expect(analyst.locator("tr", has_text="CC-1201")).to_contain_text("2.04")

    # Start reconciliation of the period.
    analyst.goto(f"{org}/periods/2026-10/")
    analyst.get_by_role("button", name="Start reconciliation 2026-10").click()
    expect(analyst.locator(messages)).to_have_text("Start reconciliation: 2026-10 is now reconciling.")
    screenshot(analyst, "period-reconciling")
    assert page_width_at_phone_size(analyst) <= PHONE["width"]

    # A finance admin submits it for review: draft statements are issued.
    preparer = log_in(
        browser, live_server, october["preparer"], authenticator=october["authenticators"][october["preparer"]]
    )
    preparer.goto(f"{org}/periods/2026-10/")
    preparer.get_by_role("button", name="Submit for review 2026-10").click()
    expect(preparer.locator(messages)).to_have_text("Submit for review: 2026-10 is now in review.")
    expect(preparer.locator("h1")).to_contain_text("In review")

    # The budget owner sees only their draft statement and disputes 1.00 of its output line.
    owner = log_in(browser, live_server, october["owner"])
    owner.goto(f"{org}/statements/?period=2026-10")
    expect(owner.locator("tbody tr")).to_have_count(1)
    row = owner.locator("tbody tr").first
    expect(row).to_contain_text("CC-1101")
    expect(row).to_contain_text("Draft (in review)")
    expect(row).to_contain_text("8.16")
    row.get_by_role("link", name="Open").click()
    expect(owner.locator("h1")).to_contain_text("CC-1101 Search: 2026-10")
    screenshot(owner, "statement-draft")
    assert page_width_at_phone_size(owner) <= PHONE["width"]
    output_line = owner.locator("tr[id^=line-]", has=owner.locator("td", has_text="output"))
    expect(output_line).to_contain_text("3.00")
    output_line.get_by_role("link", name="dispute").click()
    expect(owner.locator("h1")).to_contain_text("Dispute line")
    owner.get_by_label("Amount").fill("1.00")
    owner.get_by_label("Reason").fill("A third of the output was the ads team's experiment.")
    owner.get_by_role("button", name="Open the dispute").click()
    expect(owner.locator(messages)).to_contain_text("opened: finance has been told.")
    expect(owner.locator("h1")).to_contain_text("Open")
    dispute_url = owner.url

    # While the dispute is open the second finance admin cannot approve.
    checker = log_in(
        browser, live_server, october["checker"], authenticator=october["authenticators"][october["checker"]]
    )
    checker.goto(f"{org}/periods/2026-10/")
    next_step = checker.locator("#next-step")
    expect(next_step).to_contain_text("1 dispute is still open: resolve it before approving.")
    expect(next_step.get_by_role("button", name="Approve 2026-10")).to_have_attribute("aria-disabled", "true")
    # The blocker links to the open dispute.
    expect(
        next_step.get_by_role("link", name="1 dispute is still open: resolve it before approving.")
    ).to_have_attribute("href", re.compile(r"/disputes/\d+/$"))

    # Finance accepts it: CC-1101 credited 1.00, CC-1201 charged instead.
    analyst.goto(f"{org}/disputes/")
    analyst.locator("tbody tr", has_text="output").get_by_role("link").first.click()
    expect(analyst.locator("h1")).to_contain_text("Open")
    analyst.get_by_label("Charge it to").select_option(label="CC-1201 Ads")
    analyst.get_by_label("Note").fill("Agreed with ads.")
    analyst.get_by_role("button", name="Accept and adjust").click()
    expect(analyst.locator(messages)).to_contain_text("accepted: CC-1101 is credited and CC-1201 charged instead.")
    expect(analyst.locator("h1")).to_contain_text("Accepted")

    # Maker-checker: the preparer's approve button is disabled with the reason, and the server refuses it too.
    preparer.goto(f"{org}/periods/2026-10/")
    refusal = (
        f"{october['preparer']} prepared 2026-10 (submitted it for review), so cannot approve it: "
        "another finance admin must (maker-checker)."
    )
    expect(preparer.locator("#next-step")).to_contain_text(refusal)
    approve = preparer.locator("#next-step").get_by_role("button", name="Approve 2026-10")
    # Blocked, it is aria-disabled, greyed and not a submit button: made one again, the server still refuses.
    expect(approve).to_have_attribute("aria-disabled", "true")
    approve.evaluate(
        "button => { button.removeAttribute('aria-disabled'); button.classList.remove('is-disabled'); "
        "button.type = 'submit'; }"
    )
    approve.click()
    expect(preparer.locator(".errors[role=alert]")).to_contain_text("Approve was refused:")
    expect(preparer.locator(".errors[role=alert]")).to_contain_text(refusal)
    expect(preparer.locator("h1")).to_contain_text("In review")
    expect(preparer.locator("#next-step").get_by_role("button", name="Approve 2026-10")).to_have_attribute(
        "aria-disabled", "true"
    )
    screenshot(preparer, "period-refused")

    # The second finance admin approves and closes.
    checker.goto(f"{org}/periods/2026-10/")
    checker.get_by_role("button", name="Approve 2026-10").click()
    expect(checker.locator(messages)).to_have_text("Approve: 2026-10 is now approved.")
    checker.get_by_role("button", name="Close 2026-10").click()
    expect(checker.locator(messages)).to_have_text("Close: 2026-10 is now closed.")
    expect(checker.locator("h1")).to_contain_text("Closed")
    expect(checker.locator(".kv")).to_contain_text(october["preparer"])

    # The budget owner sees the final statement: 8.16 less the 1.00 credit, and the dispute accepted.
    owner.goto(f"{org}/statements/?period=2026-10")
    row = owner.locator("tbody tr").first
    expect(row).to_contain_text("Final")
    expect(row).to_contain_text("7.16")
    row.get_by_role("link", name="Open").click()
    expect(owner.locator("h1")).to_contain_text("Final")
    expect(owner.locator(".kv").first).to_contain_text("7.16 USD")
    expect(owner.locator(".kv").first).to_contain_text("closed")
    expect(owner.get_by_role("link", name="dispute", exact=True)).to_have_count(0)  # nothing left to dispute
    disputes = owner.locator("section", has=owner.get_by_role("heading", name="Disputes on this statement"))
    expect(disputes).to_contain_text("1.00")
    expect(disputes).to_contain_text("Accepted")
    screenshot(owner, "statement-final")
    assert page_width_at_phone_size(owner) <= PHONE["width"]
    owner.goto(dispute_url)
    expect(owner.locator("h1")).to_contain_text("Accepted")
    expect(owner.locator("main")).to_contain_text("1.00 USD to CC-1101")

    assert script_problems(analyst, preparer, owner, checker) == []
    print(f"\nmonth-end walk in chromium: {time.monotonic() - started:.1f} s")


# --- the guard ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ci", ["true", "1"])
def test_without_chromium_ci_fails_loudly(monkeypatch, ci):
    monkeypatch.setattr(f"{__name__}.CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI is set but /nonexistent/chromium is missing"):
        chromium_or_skip()


def test_without_chromium_a_developer_run_skips(monkeypatch):
    monkeypatch.setattr(f"{__name__}.CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="/nonexistent/chromium is missing"):
        chromium_or_skip()
