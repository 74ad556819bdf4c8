"""Statements emit statement.issued for each draft issued and statement.finalized for each statement the close
makes final, once each, in the service's transaction."""

import pytest
from django.db import transaction
from django_scopes import scope

from apps.statements.models import Statement
from apps.statements.services import statements_finalise
from tests import scenarios
from tests.event_log import events
from tests.factories.periods import set_state

pytestmark = pytest.mark.django_db

TOTALS = {"CC-1101": "16.11", "CC-1201": "4.55", "CC-1401": "0.35"}  # scenarios.SHARED's drafts


def _expected(statement: Statement, status: str, total: str, supersedes=None) -> dict:
    return {
        "period": "2026-10",
        "owner": statement.owner_code,
        "version": statement.version,
        "status": status,
        "reference": f"2026-10-{statement.owner_code}-v{statement.version}",
        "supersedes": supersedes,
        "currency": "USD",
        "total": total,
    }


def test_each_issued_draft_emits_statement_issued_once(world, issued):
    organization = world.org("a")
    emitted = events(organization)
    drafts = {code: issued.statement(code) for code in TOTALS}
    assert [(e.type, e.object_type, e.object_id, e.api_path) for e in emitted] == [
        ("statement.issued", "statement", str(s.pk), f"/api/v1/statements/{s.pk}/") for s in drafts.values()
    ]
    for event, (code, statement) in zip(emitted, drafts.items(), strict=True):
        assert event.data == _expected(statement, "draft", TOTALS[code])
        assert event.actor_label == "alpha-finance_analyst"
    assert [e.seq for e in emitted] == [1, 2, 3]


def test_the_close_emits_statement_finalized_for_each_statement_it_makes_final(world, issued):
    organization = world.org("a")
    scenarios.closed(issued)
    finalized = events(organization, "statement.finalized")
    assert [(e.object_id, e.data) for e in finalized] == [
        (str(issued.statement(code).pk), _expected(issued.statement(code), "final", total))
        for code, total in TOTALS.items()
    ]
    assert [e.seq for e in finalized] == [4, 5, 6]
    # Closing again makes nothing final, so it emits nothing.
    statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
    assert len(events(organization)) == 6


def test_version_2_drafts_name_the_final_statements_they_supersede(world, issued):
    organization = world.org("a")
    version_2 = scenarios.reissued(issued)
    issued_v2 = events(organization, "statement.issued")[3:]
    assert [e.object_id for e in issued_v2] == [str(s.pk) for s in version_2]
    for event, statement in zip(issued_v2, version_2, strict=True):
        assert event.data["version"] == 2
        assert event.data["supersedes"] == issued.statement(statement.owner_code).pk
        assert event.data["reference"] == f"2026-10-{statement.owner_code}-v2"
    assert [e.seq for e in events(organization)] == list(range(1, 10))


def test_a_close_rolled_back_after_finalising_leaves_no_event(world, issued):
    organization = world.org("a")
    set_state(issued.billing_period, "closed")
    with pytest.raises(RuntimeError), transaction.atomic():
        statements_finalise(billing_period=issued.billing_period, actor=None, reason="")
        assert len(events(organization, "statement.finalized")) == 3
        raise RuntimeError("the close failed after the statements")
    assert len(events(organization, "statement.finalized")) == 0
    with scope(organization=organization):
        assert not Statement.objects.filter(status="final").exists()
