"""The billing period workflow as data: every transition, the state it leaves and the one it reaches,
the permission it needs and whether a written reason is required. ``services.period_transition`` is the
only code that applies it; nothing else changes a period's state.

    open ─start_reconciliation─► reconciling ─submit_for_review─► in_review ─approve─► approved ─close─► closed
      ▲                                                                                                   │
      └───────────────────────────────────────────── reopen (reason) ─────────────────────────────────────┘

Each state has exactly one way out, so a state can never be skipped (tests/periods check the table
against ``hooks.TRANSITION_NAMES``).
"""

from dataclasses import dataclass

from apps.tenancy.roles import Perm

from .models import BillingPeriod

State = BillingPeriod.State


@dataclass(frozen=True)
class Transition:
    name: str
    source: str
    target: str
    perm: str
    reason_required: bool
    label: str  # the button
    verb: str  # "approve 2026-10"
    help: str

    @property
    def source_label(self) -> str:
        return State(self.source).label.lower()

    @property
    def target_label(self) -> str:
        return State(self.target).label.lower()


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "start_reconciliation",
            State.OPEN,
            State.RECONCILING,
            Perm.PREPARE_PERIOD,
            False,
            "Start reconciliation",
            "start reconciling",
            "The month's data is in: tie the usage to the invoices. Late data is flagged from now on.",
        ),
        Transition(
            "submit_for_review",
            State.RECONCILING,
            State.IN_REVIEW,
            Perm.PREPARE_PERIOD,
            False,
            "Submit for review",
            "submit for review",
            "Issue draft statements from the allocation; budget owners can dispute them.",
        ),
        Transition(
            "approve",
            State.IN_REVIEW,
            State.APPROVED,
            Perm.APPROVE_PERIOD,
            False,
            "Approve",
            "approve",
            "Finance sign-off. The approver may not be the preparer.",
        ),
        Transition(
            "close",
            State.APPROVED,
            State.CLOSED,
            Perm.APPROVE_PERIOD,
            False,
            "Close",
            "close",
            "Statements become final and immutable: a later change needs a reopen and a new version.",
        ),
        Transition(
            "reopen",
            State.CLOSED,
            State.OPEN,
            Perm.APPROVE_PERIOD,
            True,
            "Reopen",
            "reopen",
            "Start statement version n+1 (the closed version stays, and is reversed by the next one).",
        ),
    )
}

STATE_ORDER = (State.OPEN, State.RECONCILING, State.IN_REVIEW, State.APPROVED, State.CLOSED)


def transition_from(state: str) -> Transition:
    """The one transition that leaves ``state``."""
    return next(t for t in TRANSITIONS.values() if t.source == state)
