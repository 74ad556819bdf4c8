"""How other apps take part in period transitions without ``periods`` importing them.

Transitions are named (see ``services``): ``start_reconciliation`` (open → reconciling),
``submit_for_review`` (reconciling → in_review), ``approve`` (in_review → approved),
``close`` (approved → closed) and ``reopen`` (closed → open).

- A *guard* is ``fn(billing_period, actor) -> str | None``: a message that blocks the transition, or None.
  Guards run with the period row locked, before anything changes.
- An *effect* is ``fn(billing_period, actor, reason) -> None``: it runs inside the transition's transaction
  after the state has changed; raising rolls the whole transition back.

Apps register in ``AppConfig.ready()``; registration is idempotent (a function is kept once).
"""

from collections import defaultdict
from collections.abc import Callable

TRANSITION_NAMES = ("start_reconciliation", "submit_for_review", "approve", "close", "reopen")

Guard = Callable[..., "str | None"]
Effect = Callable[..., None]

_guards: dict[str, list[Guard]] = defaultdict(list)
_effects: dict[str, list[Effect]] = defaultdict(list)


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
