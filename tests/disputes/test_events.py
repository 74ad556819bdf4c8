"""Disputes emit dispute.opened when opened and dispute.resolved when accepted or rejected, once each, in the
service's transaction; a refused write emits nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.disputes.services import dispute_accept, dispute_comment_add, dispute_reject
from apps.statements.models import Statement
from tests.event_log import events
from tests.scenarios import open_dispute

pytestmark = pytest.mark.django_db

ISSUED = 3  # the three statement.issued events of the issued month come first


def _opened_data(issued, status: str = "open") -> dict:
    return {
        "period": "2026-10",
        "statement": issued.statement("CC-1101").pk,
        "owner": "CC-1101",
        "status": status,
        "currency": "USD",
        "amount": "4.00",
    }


def test_opening_a_dispute_emits_dispute_opened_once(world, issued):
    organization = world.org("a")
    dispute = open_dispute(world, issued)
    [event] = events(organization, "dispute.")
    assert (event.type, event.object_type, event.object_id, event.api_path) == (
        "dispute.opened",
        "dispute",
        str(dispute.pk),
        f"/api/v1/disputes/{dispute.pk}/",
    )
    assert event.data == _opened_data(issued)
    assert event.actor_label == "alpha-budget_owner"
    assert event.seq == ISSUED + 1
    dispute_comment_add(dispute=dispute, actor=world.user("a", "finance_admin"), body="Looking into it.")
    assert len(events(organization)) == ISSUED + 1  # a comment is not an event


def test_a_refused_dispute_emits_nothing(world, issued):
    organization = world.org("a")
    with pytest.raises(ValidationError):
        open_dispute(world, issued, amount="99999.00")  # more than the line charges
    assert len(events(organization)) == ISSUED


def test_accepting_emits_dispute_resolved_and_a_new_draft_for_a_recharged_owner_without_one(world, issued):
    organization = world.org("a")
    dispute = open_dispute(world, issued)
    dispute_accept(
        dispute=dispute,
        actor=world.user("a", "finance_admin"),
        amount=Decimal("3.50"),
        recharge_owner=issued.owners["CC-1301"],
    )
    new_draft, resolved = events(organization)[ISSUED + 1 :]
    with scope(organization=organization):
        platform = Statement.objects.get(owner__code="CC-1301", version=1)
    # CC-1301 had no draft: the accepted dispute issued it one (CC-1101's draft was rebuilt: no event).
    assert (new_draft.type, new_draft.object_id) == ("statement.issued", str(platform.pk))
    assert (new_draft.data["owner"], new_draft.data["total"], new_draft.data["status"]) == ("CC-1301", "3.50", "draft")
    assert (resolved.type, resolved.object_id) == ("dispute.resolved", str(dispute.pk))
    assert resolved.data == {**_opened_data(issued, "accepted"), "adjusted": "3.50", "recharge_owner": "CC-1301"}
    assert resolved.actor_label == "alpha-finance_admin"
    # Resolving twice is refused, and emits nothing more.
    with pytest.raises(ValidationError):
        dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="Again.")
    assert [e.seq for e in events(organization)] == list(range(1, ISSUED + 4))


def test_rejecting_emits_dispute_resolved(world, issued):
    organization = world.org("a")
    dispute = open_dispute(world, issued)
    dispute_reject(dispute=dispute, actor=world.user("a", "finance_admin"), reason="The calls were search's.")
    resolved = events(organization, "dispute.resolved")
    assert [e.data for e in resolved] == [
        {**_opened_data(issued, "rejected"), "adjusted": None, "recharge_owner": None}
    ]
