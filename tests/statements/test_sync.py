"""Sync for clients that poll: ``updated_at`` and ``?updated_since=`` on statements, periods and disputes
(one shared filter: ISO-8601, 400 on anything else), and ``current=true`` (a final version stays current
while its successor is only a draft)."""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.disputes.models import Dispute
from apps.disputes.services import dispute_reject
from apps.periods.late_data import LateFound, record_late_arrivals
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.tenancy.roles import TokenScope
from tests import scenarios
from tests.scenarios import closed, open_dispute, reissued

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOV_1 = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
NOV_2 = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STATEMENTS = "/api/v1/statements/"
PERIODS = "/api/v1/periods/"
DISPUTES = "/api/v1/disputes/"
BAD_VALUE = ["Give an ISO-8601 date-time, e.g. 2026-11-01T08:00:00Z (in a query string, write + as %2B)."]


@pytest.fixture
def issued(world) -> scenarios.Issued:
    return scenarios.issued(
        world.org("a"), world.user("a", "finance_analyst"), owner_user=world.user("a", "budget_owner")
    )


def _backdate_drafts(issued, **codes: datetime.datetime) -> None:
    """Drafts may still change: give them known ``updated_at`` values (a final row refuses any UPDATE)."""
    with scope(organization=issued.organization):
        for code, when in codes.items():
            Statement.objects.filter(owner__code=code.replace("_", "-"), status="draft").update(updated_at=when)


def _references(api, **params) -> list[str]:
    response = api.get(STATEMENTS, params)
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


def test_statements_filter_on_updated_since(world, issued):
    _backdate_drafts(issued, CC_1101=NOV_2, CC_1201=NOV_1, CC_1401=NOV_1)
    api = world.api("a", scopes=[TokenScope.STATEMENTS_READ])
    assert _references(api, updated_since="2026-11-02T00:00:00Z") == ["2026-10-CC-1101-v1"]
    # ">=": the instant itself is included; an offset is honoured (09:00+01:00 is 08:00Z); a date is its midnight.
    assert _references(api, updated_since="2026-11-02T09:00:00+01:00") == ["2026-10-CC-1101-v1"]
    assert _references(api, updated_since="2026-11-02T08:00:00.000001Z") == []
    assert _references(api, updated_since="2026-11-02") == ["2026-10-CC-1101-v1"]
    # no offset: UTC
    assert _references(api, updated_since="2026-11-01T08:00:00") == [
        "2026-10-CC-1101-v1",
        "2026-10-CC-1201-v1",
        "2026-10-CC-1401-v1",
    ]
    [row] = api.get(STATEMENTS, {"owner": "CC-1101"}).json()["results"]
    assert row["updated_at"] == "2026-11-02T08:00:00Z"

    # Closing makes every draft final: one UPDATE, which moves updated_at to the close.
    closed(issued)
    rows = api.get(STATEMENTS, {"updated_since": "2026-11-03T00:00:00Z"}).json()["results"]
    assert [row["reference"] for row in rows] == ["2026-10-CC-1101-v1", "2026-10-CC-1201-v1", "2026-10-CC-1401-v1"]
    assert all(row["updated_at"] == row["finalised_at"] for row in rows)


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-11-02T08:00:00 01:00",  # a "+" sent unencoded arrives as a space
        "2026-13-01T00:00:00Z",
        "1700000000",
        "",
    ],
)
@pytest.mark.parametrize("url", [STATEMENTS, PERIODS, DISPUTES])
def test_a_bad_updated_since_answers_400(world, url, value):
    response = world.api("a").get(url, {"updated_since": value})
    assert response.status_code == 400
    expected = ["Give a value, or leave the parameter out."] if value == "" else BAD_VALUE
    assert response.json() == {"updated_since": expected}


def test_updated_since_given_twice_answers_400(world):
    response = world.api("a").get(STATEMENTS, {"updated_since": ["2026-11-01", "2026-11-02"]})
    assert response.status_code == 400


def test_periods_filter_on_updated_since_and_late_data_moves_it(world, issued):
    closed(issued)
    organization = world.org("a")
    with scope(organization=organization):
        BillingPeriod.objects.filter(pk=issued.billing_period.pk).update(updated_at=NOV_1)
    api = world.api("a", scopes=[TokenScope.PERIODS_READ])
    assert api.get(PERIODS, {"updated_since": "2026-11-02T00:00:00Z"}).json()["results"] == []
    [row] = api.get(PERIODS, {"updated_since": "2026-11-01T08:00:00Z"}).json()["results"]
    assert (row["period"], row["updated_at"]) == ("2026-10", "2026-11-01T08:00:00Z")

    # Usage arriving for the closed period changes its payload (late_data): the period counts as changed.
    job = SimpleNamespace(pk=77, file_name="late.csv")
    found = LateFound(billing_period_id=issued.billing_period.pk, rows=3, amount_nano=1_500_000_000, detail={})
    record_late_arrivals(organization=organization, kind="usage", job=job, found=[found])
    [row] = api.get(PERIODS, {"updated_since": "2026-11-02T00:00:00Z"}).json()["results"]
    assert row["late_data"]["usage_rows"] == 3
    assert row["updated_at"] == row["late_data"]["last_at"]


def test_disputes_filter_on_updated_since(world, issued):
    dispute = open_dispute(world, issued)
    with scope(organization=world.org("a")):
        Dispute.objects.filter(pk=dispute.pk).update(updated_at=NOV_1)
    api = world.api("a", scopes=[TokenScope.PERIODS_READ])
    [row] = api.get(DISPUTES, {"updated_since": "2026-11-01T00:00:00Z"}).json()["results"]
    assert (row["id"], row["status"], row["updated_at"]) == (dispute.pk, "open", "2026-11-01T08:00:00Z")
    assert api.get(DISPUTES, {"updated_since": "2026-11-02T00:00:00Z"}).json()["results"] == []

    with scope(organization=world.org("a")):
        dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="The reranker is Search's.")
    [row] = api.get(DISPUTES, {"updated_since": "2026-11-02T00:00:00Z"}).json()["results"]
    assert (row["id"], row["status"]) == (dispute.pk, "rejected")
    assert row["updated_at"] >= row["resolved_at"] > "2026-11-02"


def test_a_final_version_stays_current_while_its_successor_is_a_draft(world, issued):
    """The case the issue measured: v1 final, the period reopened and v2 issued as drafts. The ERP asking for
    the final, current statements still gets version 1 (what is in force); once v2 is final, v2 replaces it."""
    v2 = reissued(issued)
    assert {(s.owner_code, s.version, s.status) for s in v2} == {
        ("CC-1101", 2, "draft"),
        ("CC-1201", 2, "draft"),
        ("CC-1401", 2, "draft"),
    }
    api = world.api("a", scopes=[TokenScope.STATEMENTS_READ])
    v1_refs = ["2026-10-CC-1101-v1", "2026-10-CC-1201-v1", "2026-10-CC-1401-v1"]
    v2_refs = ["2026-10-CC-1101-v2", "2026-10-CC-1201-v2", "2026-10-CC-1401-v2"]
    assert _references(api, status="final", current="true") == v1_refs
    # Without a status, both are current: the final v1 in force and the v2 draft in review.
    assert sorted(_references(api, current="true")) == sorted(v1_refs + v2_refs)
    assert _references(api, current="false") == []
    # v1's payload still names its draft successor.
    [row] = api.get(STATEMENTS, {"status": "final", "current": "true", "owner": "CC-1101"}).json()["results"]
    assert row["superseded_by"] == issued.statement("CC-1101", version=2).pk

    closed(issued)  # the period closes again: v2 becomes final and supersedes v1
    assert _references(api, status="final", current="true") == v2_refs
    assert _references(api, current="false") == v1_refs
    assert _references(api, status="final", current="false") == v1_refs


def test_the_schema_documents_updated_since_and_the_erp_block(client):
    document = client.get(reverse("api:schema"), {"format": "json"}).json()
    for path in (STATEMENTS, PERIODS, DISPUTES):
        [parameter] = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "updated_since"]
        assert parameter["schema"] == {"type": "string", "format": "date-time"}, path
    for name in ("Statement", "StatementDetail", "BillingPeriod", "Dispute"):
        assert document["components"]["schemas"][name]["properties"]["updated_at"]["format"] == "date-time"
    erp = document["components"]["schemas"]["StatementErp"]["properties"]
    assert sorted(erp) == ["class", "company_code", "department", "gl_account", "location"]
