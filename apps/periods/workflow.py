"""The billing period workflow as data: every transition, the state it leaves and the one it reaches,
the permission it needs and whether a written reason is required. ``services.period_transition`` is the
only code that applies it; nothing else changes a period's state. The pure helpers that word it for people
(the track of states, who may take a step, a wrong-state message) are here too: they read no table.

    open ─start_reconciliation─► reconciling ─submit_for_review─► in_review ─approve─► approved ─close─► closed
      ▲                               ▲                             │                                     │
      │                               └──── send_back (reason) ─────┘                                     │
      └───────────────────────────────────────────── reopen (reason) ─────────────────────────────────────┘

Each state has exactly one way forward, so a state can never be skipped; ``in_review`` has a second way out,
back: a finance admin sends the period back to reconciling with a reason (its draft statements are withdrawn).
tests/periods check the table against ``hooks.TRANSITION_NAMES``.
"""

from dataclasses import dataclass

from apps.tenancy.roles import ROLE_PERMS, Perm, Role

from .models import BillingPeriod

State = BillingPeriod.State

ROLE_PLURALS = {
    Role.ORG_ADMIN: "org admins",
    Role.FINANCE_ADMIN: "finance admins",
    Role.FINANCE_ANALYST: "finance analysts",
    Role.BUDGET_OWNER: "budget owners",
    Role.VIEWER: "viewers",
}


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
        Transition(
            "send_back",
            State.IN_REVIEW,
            State.RECONCILING,
            Perm.APPROVE_PERIOD,
            True,
            "Send back",
            "send back",
            "Back to reconciling: the draft statements are withdrawn (kept, marked withdrawn) and their owners told "
            "why; allocate again and resubmit.",
        ),
    )
}

# The ways back: taken only on purpose, never the next step a board or inbox proposes.
BACKWARD = frozenset({"send_back"})

STATE_ORDER = (State.OPEN, State.RECONCILING, State.IN_REVIEW, State.APPROVED, State.CLOSED)


def transition_from(state: str) -> Transition:
    """The one transition that moves ``state`` forward."""
    return next(t for t in TRANSITIONS.values() if t.source == state and t.name not in BACKWARD)


def transitions_back_from(state: str) -> list[Transition]:
    """The ways back from ``state`` (``send_back`` from in review), if any."""
    return [t for t in TRANSITIONS.values() if t.source == state and t.name in BACKWARD]


def track(*, billing_period: BillingPeriod) -> list[dict]:
    """The five states in order, each marked done, current or to come."""
    position = STATE_ORDER.index(billing_period.state)
    return [
        {"state": state, "label": state.label, "done": index < position, "current": index == position}
        for index, state in enumerate(STATE_ORDER)
    ]


def roles_that_may(perm: str) -> str:
    names = [ROLE_PLURALS[Role(role)] for role in Role if perm in ROLE_PERMS[role]]
    return " and ".join(names) or "nobody"


def wrong_state_message(billing_period: BillingPeriod, t: Transition) -> str:
    return (
        f"{billing_period.label} is {billing_period.get_state_display().lower()}: "
        f"{t.label} needs a period that is {t.source_label}."
    )
