"""The journal API: entries as the ERP reads them (per the published JSON), filters, booking on the first
request for a closed period, and the posting acknowledgement (audited, idempotent, 409 on a conflict)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.journals.models import JournalEntry
from apps.tenancy.roles import TokenScope
from tests.world import World

from .conftest import approve_and_close, set_erp, set_recovery

pytestmark = pytest.mark.django_db

LIST = reverse("api:journal-entry-list")


def ack_url(entry) -> str:
    return reverse("api:journal-entry-acknowledge", kwargs={"pk": entry.pk})


def charge(organization, code: str = "CC-1101") -> JournalEntry:
    with scope(organization=organization):
        return JournalEntry.objects.get(owner_code=code, kind="charge", version=1)


def acks(organization) -> int:
    with scope(organization=organization):
        return AuditEvent.objects.filter(action="journal_entry.acknowledged").count()


def test_an_entry_reads_as_the_published_json(world: World, closed):
    organization = world.org("a")
    entry = charge(organization)
    api = world.api("a", [TokenScope.JOURNAL_READ])
    body = api.get(reverse("api:journal-entry-detail", kwargs={"pk": entry.pk})).json()
    assert list(body) == [
        "id", "external_id", "period", "version", "kind", "reverses", "statement", "posting_date", "currency",
        "company_code", "cost_centre", "memo", "document_ref", "header_text", "total", "fx", "posting_status",
        "erp_reference", "acknowledged_at", "created_at", "updated_at", "lines",
    ]  # fmt: skip
    assert {k: body[k] for k in ("external_id", "period", "version", "kind", "reverses", "statement")} == {
        "external_id": "alpha-2026-10-CC-1101-v1",
        "period": "2026-10",
        "version": 1,
        "kind": "charge",
        "reverses": None,
        "statement": entry.statement_id,
    }
    assert (body["posting_date"], body["currency"], body["company_code"], body["cost_centre"]) == (
        "2026-10-31", "USD", "US01", "CC-1101",
    )  # fmt: skip
    assert (body["total"], body["fx"], body["posting_status"], body["erp_reference"]) == ("16.11", None, "pending", "")
    assert body["document_ref"] == f"CB{entry.pk}" and body["header_text"] == "AI chargeback 2026-10 v1"
    with scope(organization=organization):
        statement = entry.statement
        expected = [
            {"account": "6420", "debit": str(statement.section_amount(s).quantize(Decimal("0.01"))),
             "credit": "0.00", "cost_centre": "CC-1101", "department": "Search", "class": "AI", "location": "NYC"}
            for s in ("direct", "shared", "true_up", "adjustment") if statement.section_amount(s)
        ]  # fmt: skip
    assert [{k: v for k, v in line.items() if k != "memo"} for line in body["lines"]] == [
        *expected,
        {"account": "1990-US", "debit": "0.00", "credit": "16.11", "cost_centre": "", "department": "", "class": "",
         "location": ""},
    ]  # fmt: skip
    assert body["lines"][0]["memo"] == "Direct AI cost 2026-10 CC-1101 v1"
    # Debits equal credits, read as the ERP reads them: decimal strings.
    assert sum(Decimal(line["debit"]) for line in body["lines"]) == sum(
        Decimal(line["credit"]) for line in body["lines"]
    )


def test_filters_period_kind_status_owner_and_updated_since(world: World, closed):
    organization = world.org("a")
    api = world.api("a", [TokenScope.JOURNAL_READ])
    ids = lambda **params: [row["external_id"] for row in api.get(LIST, params).json()["results"]]  # noqa: E731
    everything = ["alpha-2026-10-CC-1101-v1", "alpha-2026-10-CC-1201-v1", "alpha-2026-10-CC-1401-v1"]
    assert sorted(ids(period="2026-10")) == everything
    assert ids(period="2026-09") == []
    assert ids(kind="reversal") == [] and sorted(ids(kind="charge")) == everything
    assert ids(owner="cc-1201") == ["alpha-2026-10-CC-1201-v1"]
    with scope(organization=organization):
        JournalEntry.objects.filter(owner_code="CC-1401").update(
            posting_status="failed", updated_at=timezone.now() + datetime.timedelta(hours=1)
        )
    assert ids(posting_status="failed") == ["alpha-2026-10-CC-1401-v1"]
    since = (timezone.now() + datetime.timedelta(minutes=30)).isoformat()
    assert ids(updated_since=since) == ["alpha-2026-10-CC-1401-v1"]
    assert api.get(LIST, {"period": "2026-10-01"}).status_code == 400
    assert api.get(LIST, {"kind": "credit"}).status_code == 400


def test_the_first_request_for_a_closed_period_books_it(world: World, issued):
    organization = world.org("a")
    approve_and_close(world, issued)  # no GL accounts, no recovery account: nothing booked
    api = world.api("a", [TokenScope.JOURNAL_READ])
    assert api.get(LIST, {"period": "2026-10"}).json()["results"] == []
    set_erp(organization)
    set_recovery(organization)
    rows = api.get(LIST, {"period": "2026-10"}).json()["results"]
    assert len(rows) == 3 and sum(Decimal(row["total"]) for row in rows) == Decimal("21.01")


def test_acknowledge_posts_once_audited_and_refuses_another_reference(world: World, closed):
    organization = world.org("a")
    entry = charge(organization)
    api = world.api("a", [TokenScope.JOURNAL_READ, TokenScope.JOURNAL_WRITE])
    response = api.post(ack_url(entry), {"reference": "JE-100234"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["posting_status"], body["erp_reference"]) == ("posted", "JE-100234")
    assert body["acknowledged_at"] is not None
    assert acks(organization) == 1
    with scope(organization=organization):
        event = AuditEvent.objects.get(action="journal_entry.acknowledged")
    assert event.before == {"posting_status": "pending", "erp_reference": "", "posting_message": ""}
    assert event.after == {"posting_status": "posted", "erp_reference": "JE-100234", "posting_message": ""}
    # The same acknowledgement again (a retry) changes nothing.
    again = api.post(ack_url(entry), {"reference": "JE-100234", "status": "posted"}, content_type="application/json")
    assert again.status_code == 200 and again.json()["updated_at"] == body["updated_at"] and acks(organization) == 1
    # Another reference, or a failure, for a posted entry: 409, and nothing changes.
    other = api.post(ack_url(entry), {"reference": "JE-999"}, content_type="application/json")
    assert other.status_code == 409
    assert other.json()["detail"] == (
        "alpha-2026-10-CC-1101-v1 is already posted as JE-100234; it cannot be acknowledged again as posted JE-999."
    )
    failed = api.post(ack_url(entry), {"status": "failed", "message": "x"}, content_type="application/json")
    assert failed.status_code == 409 and acks(organization) == 1


def test_a_failure_then_a_post(world: World, closed):
    organization = world.org("a")
    entry = charge(organization, "CC-1201")
    api = world.api("a", [TokenScope.JOURNAL_WRITE])
    failed = api.post(
        ack_url(entry),
        {"status": "failed", "message": "Period 10 is closed in the ledger."},
        content_type="application/json",
    )
    assert failed.status_code == 200 and failed.json()["posting_status"] == "failed"
    posted = api.post(ack_url(entry), {"reference": "5100000042"}, content_type="application/json")
    assert posted.status_code == 200 and posted.json()["posting_status"] == "posted"
    assert acks(organization) == 2
    missing = api.post(ack_url(charge(organization, "CC-1401")), {}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["detail"] == "A posted entry needs the ERP's document number."


def test_scopes(world: World, closed):
    entry = charge(world.org("a"))
    reader = world.api("a", [TokenScope.JOURNAL_READ])
    assert reader.post(ack_url(entry), {"reference": "X"}, content_type="application/json").status_code == 403
    statements_only = world.api("a", [TokenScope.STATEMENTS_READ])
    assert statements_only.get(LIST).status_code == 403


def test_the_list_takes_a_bounded_number_of_queries(world: World, closed, django_assert_max_num_queries):
    api = world.api("a", [TokenScope.JOURNAL_READ])
    with django_assert_max_num_queries(8):
        response = api.get(LIST, {"period": "2026-10"})
    assert len(response.json()["results"]) == 3
