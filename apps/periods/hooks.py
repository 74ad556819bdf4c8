"""How other apps take part in period transitions without ``periods`` importing them.

Transitions are named (see ``services``): ``start_reconciliation`` (open → reconciling),
``submit_for_review`` (reconciling → in_review), ``approve`` (in_review → approved),
``close`` (approved → closed) and ``reopen`` (closed → open).

- A *guard* is ``fn(billing_period, actor) -> str | None``: a message that blocks the transition, or None.
  Guards run with the period row locked, before anything changes.
- An *effect* is ``fn(billing_period, actor, reason) -> None``: it runs inside the transition's transaction
  after the state has changed; raising rolls the whole transition back.

- A *fact* is ``fn(billing_periods) -> {period_pk: value}``: a figure another app knows about a list of
  saved periods (e.g. "Open disputes"), shown as a column of the periods board and on a period's page
  under its label. Periods missing from the answer show as empty. One call per page, so a fact is one
  grouped query, not one per period.

Apps register in ``AppConfig.ready()``; registration is idempotent (a function is kept once).
"""

from collections import defaultdict
from collections.abc import Callable

TRANSITION_NAMES = ("start_reconciliation", "submit_for_review", "approve", "close", "reopen")

Guard = Callable[..., "str | None"]
Effect = Callable[..., None]
Fact = Callable[[list], dict]

_guards: dict[str, list[Guard]] = defaultdict(list)
_effects: dict[str, list[Effect]] = defaultdict(list)
_facts: dict[str, Fact] = {}


def _check(name: str) -> None:
    if name not in TRANSITION_NAMES:
        raise ValueError(f"Unknown period transition {name!r}; use one of {', '.join(TRANSITION_NAMES)}.")


def register_guard(transition: str, guard: Guard) -> None:
    _check(transition)
    if guard not in _guards[transition]:
        _guards[transition].append(guard)


def on_transition(transition: str, effect: Effect) -> None:
    _check(transition)
    if effect not in _effects[transition]:
        _effects[transition].append(effect)


def guards_for(transition: str) -> list[Guard]:
    return list(_guards[transition])


def effects_for(transition: str) -> list[Effect]:
    return list(_effects[transition])


def register_period_fact(label: str, fn: Fact) -> None:
    """Add a column to the periods board (and a line to a period's page); registering a label again
    replaces its function."""
    if not label.strip():
        raise ValueError("A period fact needs a label.")
    _facts[label] = fn


def period_facts() -> dict[str, Fact]:
    """The registered facts by label, in registration order."""
    return dict(_facts)
