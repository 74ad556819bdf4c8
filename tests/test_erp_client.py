"""An ERP client end to end over HTTP on loopback (issue 17, "Done means").

A live server answers the API; a small receiver (``http.server`` in a thread, on 127.0.0.1) stands for the
ERP's webhook endpoint and answers 500 to the first delivery it gets. The client speaks plain HTTP with the
standard library, as a connector in any language would; the people act through the portal's services.

1. Alpha Corp closes October 2026 (the ``SHARED`` month of tests/scenarios.py, each cost centre with its
   GL account, a recovery account for its company code): the close books the journal.
2. Provisioning: ``create_api_client`` prints the ERP's token (a finance analyst's role, scopes
   statements:read journal:read journal:write events:read) and a set-up token (webhooks:read
   webhooks:write), which registers the receiver for period.reopened and journal.ready and gets its signing
   secret once.
3. The ERP pulls October's journal: every entry balances, each debit goes to its cost centre's GL account,
   the credit to the recovery account, and the debits add up to the final statements' total (read over the
   API too); asked again with ``If-None-Match`` the API answers 304.
4. A finance admin reopens October; a late invoice line (+2.00) arrives; the analyst prepares it again, a
   finance admin approves and closes: version 2.
5. The receiver verified (standardwebhooks' ``Webhook.verify``) ``period.reopened`` and ``journal.ready``;
   the first delivery got the 500 and came again, with the same webhook-id, when the beat task sent what
   was due; the journal.ready body points at the journal's API URL.
6. The ERP follows that URL: the reversal of each version-1 charge (lines mirrored) and version 2's
   charges (their sum = the version-2 final statements' total); the event feed lists the same changes in
   order; it acknowledges the reversals and the new charges with its document numbers.

The delivery log (event, attempt, status, latency) is printed at the end (``pytest -s`` shows it).
"""

import csv
import http.server
import io
import json
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_scopes import scope
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.journals.models import JournalEntry, RecoveryAccount
from apps.owners.models import BudgetOwner
from apps.periods.services import period_transition
from apps.statements.models import Statement
from apps.tenancy.roles import Role
from apps.webhooks.deliveries import deliveries_send_due
from apps.webhooks.models import Event, WebhookAttempt, WebhookDelivery
from apps.webhooks.tasks import send_due
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.scenarios import OCT, SHARED, TO_CLOSED, allocated, chargeback, reconciled, walk
from tests.test_browser_month_end import _emptied_past_the_triggers  # noqa: F401 (fixture)
from tests.world import build_world

PERIOD = "2026-10"
ERP_SCOPES = "statements:read,journal:read,journal:write,events:read"
TOKEN = re.compile(r"\bcbk_[0-9a-f]+_[A-Za-z0-9_-]+")

# Each cost centre's expense account and ERP references; one company code, one recovery account.
LEDGER = {
    "CC-1101": {"gl_account": "6420-01", "department": "ENG-SEARCH", "erp_class": "R&D", "location": "US-SFO"},
    "CC-1201": {"gl_account": "6420-02", "department": "MKT-ADS", "erp_class": "S&M", "location": "US-NYC"},
    "CC-1301": {"gl_account": "6420-09", "department": "PLATFORM", "erp_class": "Shared", "location": "US-SFO"},
    "CC-1401": {"gl_account": "6420-03", "department": "FIN", "erp_class": "G&A", "location": "US-NYC"},
}
COMPANY_CODE = "US01"
RECOVERY_ACCOUNT = "2990-AI-Recovery"


# --- the ERP's webhook endpoint ---------------------------------------------------------------------


@dataclass
class Received:
    """One request the receiver got: what it answered and, once verified, the payload."""

    status: int
    headers: dict
    body: bytes
    payload: dict | None = None
    error: str = ""


@dataclass
class Receiver:
    """An ERP's webhook endpoint on loopback: verifies each request with the endpoint's secret (once it is
    known), answers 500 to the very first request and 200 after that (401 to a bad signature)."""

    server: http.server.ThreadingHTTPServer = None
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/erp/webhooks"

    def handle(self, headers: dict, body: bytes) -> int:
        with self.lock:
            record = Received(status=200, headers=headers, body=body)
            try:
                record.payload = Webhook(self.secret).verify(body, headers)
            except (WebhookVerificationError, TypeError, ValueError) as error:
                record.status, record.error = 401, f"{type(error).__name__}: {error}"
            if not self.received:
                record.status = 500  # the first delivery fails: the portal must come again
            self.received.append(record)
            return record.status


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = state.handle({key.lower(): value for key, value in self.headers.items()}, body)
            answer = b'{"ok": true}' if status == 200 else b'{"error": "try again"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet: the test prints its own log
            return

    state.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=state.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()
        thread.join(timeout=10)


# --- the ERP's HTTP client --------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class ErpClient:
    """What an ERP connector does over HTTP: a bearer token, JSON in and out, nothing from Django."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def request(self, method: str, url: str, *, body: dict | None = None, headers: dict | None = None) -> Response:
        if url.startswith("/"):
            url = self.base_url + url
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http on loopback
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as error:  # 304 and 4xx/5xx come back as errors from urllib
            return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def get(self, url: str, **kwargs) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, body: dict, **kwargs) -> Response:
        return self.request("POST", url, body=body, **kwargs)

    def all_pages(self, url: str) -> list[dict]:
        """Every row of a cursor-paginated list, following ``next``."""
        rows = []
        while url:
            answer = self.get(url)
            assert answer.status == 200, (url, answer.status, answer.body[:500])
            page = answer.json()
            rows += page["results"]
            url = page.get("next")
        return rows


# --- the organisation -------------------------------------------------------------------------------


def provision(organization, *, name: str, scopes: str, role: str) -> str:
    """``create_api_client`` as an operator runs it: the token is printed once, and read from there."""
    out = io.StringIO()
    call_command(
        "create_api_client", "--org", organization.slug, "--name", name, "--scopes", scopes, "--role", role, stdout=out
    )
    tokens = TOKEN.findall(out.getvalue())
    assert len(tokens) == 1, out.getvalue()
    return tokens[0]


def final_statements(organization, version: int) -> dict[str, Statement]:
    with scope(organization=organization):
        return {
            s.owner.code: s
            for s in Statement.objects.filter(period=OCT, version=version, status="final").select_related("owner")
        }


def amount(value: str) -> Decimal:
    return Decimal(value)


def check_balanced_charge(entry: dict) -> Decimal:
    """A charge: debits on the cost centre's GL account (credits only for a negative section), one
    balancing credit on the recovery account; debits equal credits. Returns its total."""
    debits = sum(amount(line["debit"]) for line in entry["lines"])
    credits = sum(amount(line["credit"]) for line in entry["lines"])
    assert debits == credits == amount(entry["total"]), entry
    owner = entry["cost_centre"]
    expense = [line for line in entry["lines"] if line["account"] != RECOVERY_ACCOUNT]
    recovery = [line for line in entry["lines"] if line["account"] == RECOVERY_ACCOUNT]
    assert expense and len(recovery) == 1, entry
    assert {line["account"] for line in expense} == {LEDGER[owner]["gl_account"]}
    assert {(line["cost_centre"], line["department"], line["class"], line["location"]) for line in expense} == {
        (owner, LEDGER[owner]["department"], LEDGER[owner]["erp_class"], LEDGER[owner]["location"])
    }
    assert entry["company_code"] == COMPANY_CODE
    for line in entry["lines"]:  # one side only, the other "0.00", footed to the cent
        assert "0.00" in (line["debit"], line["credit"]), line
        assert amount(line["debit"]).as_tuple().exponent == -2 and amount(line["credit"]).as_tuple().exponent == -2
    return debits


@pytest.fixture
def alpha_october(_emptied_past_the_triggers, eager_celery, settings, live_server):  # noqa: F811
    """Alpha Corp in chargeback with October 2026 (the SHARED month) reconciled, allocated and closed by its
    people through the period service; every cost centre with its GL account and ERP references, and the
    recovery account for the company code. Absolute URLs in webhooks point at the live server."""
    settings.PORTAL_URL = live_server.url
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    world = build_world()
    organization = chargeback(world.org("a"))
    reconciled(organization)
    allocated(organization, OCT, month=SHARED)
    with scope(organization=organization):
        for code, references in LEDGER.items():
            BudgetOwner.objects.filter(code=code).update(company_code=COMPANY_CODE, **references)
        RecoveryAccount.objects.create(
            organization=organization, company_code=COMPANY_CODE, account=RECOVERY_ACCOUNT, description="AI recovery"
        )
    walk(world, *TO_CLOSED)  # analyst prepares, finance admin approves and closes: the journal is booked
    return world


# --- the walk ---------------------------------------------------------------------------------------


def test_an_erp_client_pulls_a_closed_journal_follows_a_restatement_by_webhook_and_acknowledges(
    alpha_october, receiver, live_server
):
    world = alpha_october
    organization = world.org("a")

    # 2. Provisioning: the ERP's own token, and the integration admin's for the endpoint.
    erp = ErpClient(
        live_server.url,
        provision(organization, name="NetSuite connector", scopes=ERP_SCOPES, role=Role.FINANCE_ANALYST),
    )
    admin = ErpClient(
        live_server.url,
        # The set-up script's token: it registers endpoints and does nothing else (a token's role is at most
        # a finance analyst's; the scopes are what count here).
        provision(organization, name="Webhook set-up", scopes="webhooks:read,webhooks:write", role=Role.VIEWER),
    )
    registered = admin.post(
        "/api/v1/webhook-endpoints/",
        {"url": receiver.url, "events": ["period.reopened", "journal.ready"], "description": "NetSuite"},
    )
    assert registered.status == 201, registered.body[:500]
    endpoint = registered.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]
    assert "secret" not in admin.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/").json()  # shown once

    # 3. The closed month's journal: one balanced charge per final statement, totalling the statements.
    v1 = final_statements(organization, 1)
    assert sorted(v1) == ["CC-1101", "CC-1201", "CC-1401"]
    # scenarios.SHARED: drafts of CC-1101 16.11, CC-1201 4.55 and CC-1401 0.35, final on close.
    assert {code: s.total_amount for code, s in v1.items()} == {
        "CC-1101": Decimal("16.11"),
        "CC-1201": Decimal("4.55"),
        "CC-1401": Decimal("0.35"),
    }
    over_api = erp.all_pages(f"/api/v1/statements/?period={PERIOD}&status=final&current=true")
    statements_total = sum(amount(s["total"]) for s in over_api)
    assert statements_total == sum(s.total_amount for s in v1.values()) == Decimal("21.01")

    journal_url = f"/api/v1/journal-entries/?period={PERIOD}"
    first = erp.get(journal_url)
    assert first.status == 200, first.body[:500]
    entries = first.json()["results"]
    assert first.json().get("next") is None
    assert sorted((e["cost_centre"], e["kind"], e["version"]) for e in entries) == [
        ("CC-1101", "charge", 1),
        ("CC-1201", "charge", 1),
        ("CC-1401", "charge", 1),
    ]
    for entry in entries:
        assert entry["external_id"] == f"alpha-{PERIOD}-{entry['cost_centre']}-v1"
        assert (entry["period"], entry["reverses"], entry["posting_status"]) == (PERIOD, None, "pending")
        assert entry["posting_date"] == "2026-10-31"
        assert entry["currency"] == "USD"
        assert entry["statement"] == v1[entry["cost_centre"]].pk
        assert amount(entry["total"]) == v1[entry["cost_centre"]].total_amount
    assert sum(check_balanced_charge(entry) for entry in entries) == statements_total
    # Search's charge, line by line: one debit per section of its statement, the credit to recovery.
    search = next(entry for entry in entries if entry["cost_centre"] == "CC-1101")
    assert [(line["account"], line["debit"], line["credit"]) for line in search["lines"]] == [
        ("6420-01", "15.01", "0.00"),  # direct
        ("6420-01", "0.33", "0.00"),  # shared (a third of the gateway's 1.00)
        ("6420-01", "0.77", "0.00"),  # true-up
        (RECOVERY_ACCOUNT, "0.00", "16.11"),
    ]

    # The repeat with the ETag: nothing changed, 304 and no body.
    etag = first.headers["etag"]
    again = erp.get(journal_url, headers={"If-None-Match": etag})
    assert (again.status, again.body) == (304, b"")
    assert again.headers["etag"] == etag

    with scope(organization=organization):
        last_seq_before = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    # 4. A finance admin reopens (the portal's service); a late openai invoice line (+2.00) arrives; the
    # analyst prepares again, a finance admin approves and closes: version 2.
    period_transition(
        organization=organization,
        period=OCT,
        transition="reopen",
        actor=world.user("a", Role.FINANCE_ADMIN),
        reason="Late openai invoice line",
    )
    assert [r.status for r in receiver.received] == [500]  # period.reopened, first attempt
    with scope(organization=organization):
        late = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=OCT)
        InvoiceLineFactory(invoice=late, amount_nano=2 * 10**9, cost_source="output")
    assert walk(world, *TO_CLOSED).version == 2
    v2 = final_statements(organization, 2)
    assert sorted(v2) == ["CC-1101", "CC-1201", "CC-1401"]
    assert sum(s.total_nano for s in v2.values()) == 23_008_000_000  # the invoice less the 0.500 unallocated
    # The true-up grows from 1.00 to 3.00 (23.508 invoiced, 20.508 estimated), shared in proportion to the
    # allocated openai cost (CC-1101 15.340333334, CC-1201 4.334333333, CC-1401 0.333333333 of 20.008):
    # CC-1101 15.343 + 2.300 = 17.64, CC-1201 4.334 + 0.650 = 4.98, CC-1401 0.333 + 0.050 = 0.38.
    assert {code: s.total_amount for code, s in v2.items()} == {
        "CC-1101": Decimal("17.64"),
        "CC-1201": Decimal("4.98"),
        "CC-1401": Decimal("0.38"),
    }

    # 5. The retry: the beat task sends what is due once its time has come.
    send_due_retries(organization)
    statuses = [r.status for r in receiver.received]
    assert statuses == [500, 200, 200], [(r.status, r.error) for r in receiver.received]
    assert all(r.payload is not None for r in receiver.received), [r.error for r in receiver.received]
    by_type = {}
    for record in receiver.received:
        by_type.setdefault(record.payload["type"], []).append(record)
    assert sorted(by_type) == ["journal.ready", "period.reopened"]
    reopened_attempts = by_type["period.reopened"]
    assert [r.status for r in reopened_attempts] == [500, 200]
    # One message, two attempts: the same webhook-id and body, each attempt signed afresh.
    assert len({r.headers["webhook-id"] for r in reopened_attempts}) == 1
    assert reopened_attempts[0].headers["webhook-id"].startswith("msg_")
    assert reopened_attempts[0].payload["data"] == reopened_attempts[1].payload["data"]
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in receiver.received)
    reopened = reopened_attempts[0].payload
    assert reopened["data"]["id"] == PERIOD
    assert reopened["data"]["object"] == "period"
    assert reopened["data"]["url"] == f"{live_server.url}/api/v1/periods/{PERIOD}/"
    (ready,) = by_type["journal.ready"]
    ready = ready.payload
    assert (ready["data"]["id"], ready["data"]["object"]) == (PERIOD, "journal")
    assert ready["data"]["url"] == f"{live_server.url}/api/v1/journal-entries/?period={PERIOD}"
    assert (ready["data"]["period"], ready["data"]["version"]) == (PERIOD, 2)
    assert (ready["data"]["entries"], ready["data"]["reversals"]) == (3, 3)
    assert ready["data"]["seq"] > reopened["data"]["seq"]
    # A tampered body fails verification: the secret is what makes these trustworthy.
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(receiver.received[-1].body + b" ", receiver.received[-1].headers)

    # 6. The ERP follows the webhook to the journal: v1's charges (already known), their reversals, v2's.
    changed = erp.get(ready["data"]["url"], headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag
    entries = erp.all_pages(ready["data"]["url"])
    by_id = {e["external_id"]: e for e in entries}
    codes = ("CC-1101", "CC-1201", "CC-1401")
    assert sorted(by_id) == sorted(
        [f"alpha-{PERIOD}-{code}-v1" for code in codes]
        + [f"alpha-{PERIOD}-{code}-v1-rev" for code in codes]
        + [f"alpha-{PERIOD}-{code}-v2" for code in codes]
    )
    for code in codes:
        charge, reversal = by_id[f"alpha-{PERIOD}-{code}-v1"], by_id[f"alpha-{PERIOD}-{code}-v1-rev"]
        assert (reversal["kind"], reversal["version"], reversal["reverses"]) == ("reversal", 1, charge["external_id"])
        assert reversal["total"] == charge["total"]
        # A full reversal: the same lines with debits and credits swapped, never an edit of the charge.
        assert [(line["account"], line["debit"], line["credit"]) for line in reversal["lines"]] == [
            (line["account"], line["credit"], line["debit"]) for line in charge["lines"]
        ]
        new = by_id[f"alpha-{PERIOD}-{code}-v2"]
        assert (new["kind"], new["version"], new["reverses"], new["statement"]) == ("charge", 2, None, v2[code].pk)
        assert amount(new["total"]) == v2[code].total_amount
    new_charges = [by_id[f"alpha-{PERIOD}-{code}-v2"] for code in codes]
    v2_over_api = erp.all_pages(f"/api/v1/statements/?period={PERIOD}&status=final&current=true")
    assert {s["version"] for s in v2_over_api} == {2}
    assert sum(check_balanced_charge(entry) for entry in new_charges) == sum(amount(s["total"]) for s in v2_over_api)
    assert amount(ready["data"]["total"]) == sum(amount(e["total"]) for e in new_charges)

    # The same journal as files in the ERPs' import layouts, over HTTP: the rows of an entry balance in each.
    check_layout_files(erp, entries)

    # The event feed tells a polling client the same story, in commit order.
    feed = erp.get(f"/api/v1/events/?after={last_seq_before}")
    assert feed.status == 200, feed.body[:500]
    feed_types = [event["type"] for event in feed.json()["results"]]
    assert feed_types[0] == "period.reopened" and feed_types[-1] == "journal.ready"
    assert {"period.submitted", "period.approved", "period.closed", "statement.finalized"} <= set(feed_types)
    seqs = [event["seq"] for event in feed.json()["results"]]
    assert seqs == list(range(last_seq_before + 1, last_seq_before + 1 + len(seqs)))
    # The feed and the webhooks name an event alike: the feed row's id is the delivery's webhook-id.
    feed_ids = {event["type"]: event["id"] for event in feed.json()["results"]}
    assert feed_ids["period.reopened"] == reopened_attempts[0].headers["webhook-id"]
    assert feed_ids["journal.ready"] == by_type["journal.ready"][0].headers["webhook-id"]

    # The ERP posts the reversals and the new charges and reports its document numbers back.
    to_post = [by_id[f"alpha-{PERIOD}-{code}-v1-rev"] for code in codes] + new_charges
    for number, entry in enumerate(to_post, start=1):
        reference = f"JE-2026-{number:04d}"
        acknowledged = erp.post(
            f"/api/v1/journal-entries/{entry['id']}/acknowledge/",
            {"reference": reference, "status": "posted"},
            headers={"Idempotency-Key": f"ack-{entry['external_id']}"},
        )
        assert acknowledged.status == 200, acknowledged.body[:500]
        assert (acknowledged.json()["posting_status"], acknowledged.json()["erp_reference"]) == ("posted", reference)
        # A connector that retries after a lost answer gets the same answer back, and nothing changes.
        replay = erp.post(
            f"/api/v1/journal-entries/{entry['id']}/acknowledge/",
            {"reference": reference, "status": "posted"},
            headers={"Idempotency-Key": f"ack-{entry['external_id']}"},
        )
        assert (replay.status, replay.json()) == (200, acknowledged.json())
        assert replay.headers.get("idempotent-replayed") == "true"
    # A posted entry is final in the ERP: another document number for it is refused, naming the first.
    conflict = erp.post(f"/api/v1/journal-entries/{to_post[0]['id']}/acknowledge/", {"reference": "JE-2026-9999"})
    assert conflict.status == 409
    assert "already posted as JE-2026-0001" in conflict.json()["detail"]
    after = {e["external_id"]: e for e in erp.all_pages(journal_url)}
    assert sorted((e["external_id"], e["posting_status"], e["erp_reference"]) for e in after.values()) == sorted(
        [(f"alpha-{PERIOD}-{code}-v1", "pending", "") for code in codes]
        + [(e["external_id"], "posted", f"JE-2026-{n:04d}") for n, e in enumerate(to_post, start=1)]
    )
    with scope(organization=organization):
        assert JournalEntry.objects.filter(posting_status="posted").count() == 6

    print_delivery_log(organization)


def download(erp: ErpClient, layout: str) -> list[dict]:
    answer = erp.get(f"/api/v1/journal-entries/export/?period={PERIOD}&layout={layout}")
    assert answer.status == 200, (layout, answer.status, answer.body[:500])
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.body.decode("utf-8"))))


def check_layout_files(erp: ErpClient, entries: list[dict]) -> None:
    """NetSuite: one row per line, the rows sharing an External ID are one entry, Debit/Credit balance.
    SAP: one document per REF_DOC_NO (at most 16 characters), signed amounts that sum to zero. Generic: the
    JSON's fields on each line. Each file carries every line of every entry the API listed."""
    lines = sum(len(entry["lines"]) for entry in entries)
    by_external_id = {entry["external_id"]: entry for entry in entries}

    netsuite = download(erp, "netsuite")
    assert len(netsuite) == lines
    grouped: dict[str, list[dict]] = {}
    for row in netsuite:
        grouped.setdefault(row["External ID"], []).append(row)
    assert sorted(grouped) == sorted(by_external_id)
    for external_id, rows in grouped.items():
        entry = by_external_id[external_id]
        debit = sum(amount(row["Debit"] or "0") for row in rows)
        credit = sum(amount(row["Credit"] or "0") for row in rows)
        assert debit == credit == amount(entry["total"]), external_id
        assert [row["Account"] for row in rows] == [line["account"] for line in entry["lines"]]
        assert {(row["Subsidiary"], row["Currency"], row["Date"]) for row in rows} == {
            (entry["company_code"], entry["currency"], entry["posting_date"])
        }

    sap = download(erp, "sap")
    assert len(sap) == lines
    documents: dict[str, list[dict]] = {}
    for row in sap:
        documents.setdefault(row["REF_DOC_NO"], []).append(row)
    assert sorted(documents) == sorted(entry["document_ref"] for entry in entries)
    for reference, rows in documents.items():
        assert 1 <= len(reference) <= 16 and all(len(row["HEADER_TXT"]) <= 25 for row in rows)
        assert sum(amount(row["AMT_DOCCUR"]) for row in rows) == 0, reference

    generic = download(erp, "generic")
    assert len(generic) == lines
    assert {row["external_id"] for row in generic} == set(by_external_id)


def send_due_retries(organization) -> None:
    """The failed delivery waits on the published schedule (the second attempt 5 seconds after the first);
    the scheduler's sending of what is due, run at that time, sends it again. (The schedule's clock is
    ``now``: the test runs it at the due time rather than sleeping until then.) Then the beat task, on the
    real clock, finds nothing left to send."""
    with scope(organization=organization):
        pending = WebhookDelivery.objects.get(status="pending")
        (first,) = pending.attempt_log.all()
        assert (pending.attempts, pending.last_status_code, first.status_code) == (1, 500, 500)
        assert pending.next_attempt_at == first.attempted_at + timedelta(seconds=5)
        retried = deliveries_send_due(organization=organization, now=pending.next_attempt_at)
        assert [attempt.status_code for attempt in retried] == [200]
    assert send_due.delay().get() == {}


def print_delivery_log(organization) -> None:
    """The attempts as the endpoint's page lists them, oldest first: event, webhook-id, attempt, when
    (seconds after the event's first attempt, on the schedule's clock), status, latency, the answer."""
    with scope(organization=organization):
        attempts = list(WebhookAttempt.objects.select_related("delivery__event").order_by("attempted_at", "pk"))
        deliveries = list(WebhookDelivery.objects.select_related("event").order_by("pk"))
    lines = ["", "Webhook delivery log (tests/test_erp_client.py):"]
    lines.append(f"  {'event':<16} {'webhook-id':<36} {'attempt':>7} {'at':>6} {'status':>6} {'latency':>8}  answer")
    first_at: dict[int, object] = {}
    number: dict[int, int] = {}
    for attempt in attempts:
        number[attempt.delivery_id] = number.get(attempt.delivery_id, 0) + 1
        first_at.setdefault(attempt.delivery_id, attempt.attempted_at)
        offset = (attempt.attempted_at - first_at[attempt.delivery_id]).total_seconds()
        event = attempt.delivery.event
        lines.append(
            f"  {event.type:<16} {event.webhook_id:<36} {number[attempt.delivery_id]:>7} {f'+{offset:g}s':>6} "
            f"{attempt.status_code or '-':>6} {attempt.latency_ms:>5} ms  {attempt.response_excerpt[:40]}"
            f"{attempt.error}"
        )
    for delivery in deliveries:
        lines.append(f"  delivery of {delivery.event.type}: {delivery.status} after {delivery.attempts} attempt(s)")
    print("\n".join(lines))
