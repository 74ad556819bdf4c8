"""How other apps take part in period transitions without ``periods`` importing them.

Transitions are named (see ``services``): ``start_reconciliation`` (open → reconciling),
``submit_for_review`` (reconciling → in_review), ``approve`` (in_review → approved),
``close`` (approved → closed), ``reopen`` (closed → open) and ``send_back`` (in_review → reconciling).

- A *guard* is ``fn(*, billing_period, actor) -> str | None``: a message that blocks the transition, or None.
  Guards run with the period row locked, before anything changes.
- An *effect* is ``fn(*, billing_period, actor, reason) -> None``: it runs inside the transition's transaction
  after the state has changed; raising rolls the whole transition back.

- A *check* is ``fn(check, *, acting, override, reason) -> None``: like a guard, but it sees the whole
  ``services.TransitionCheck`` and fills it (``blocked``, ``forbidden`` and the reconciliation fields), for a
  rule that depends on who acts or on an override (reconciliation's tolerance on ``submit_for_review``).
  Checks run before the guards, so their messages come first.

- A *fact* is ``fn(*, organization, billing_periods) -> {period_pk: value}``: a figure another app knows
  about a list of the organisation's saved periods (e.g. "Open disputes"), shown as a column of the periods
  board and on a period's page under its label. Periods missing from the answer show as empty. One call
  per page, so a fact is one grouped query, not one per period.

- A *warning* is ``fn(*, billing_period) -> str | None``: something a person should know before taking a
  transition that does not block it (e.g. the journal: a reopened period's posted entries need their
  reversal posted too). The period page shows them on the step.

- The *figures* are ``fn(*, organization, periods) -> {period: figures}``: the estimated and invoiced cost of
  each month the board and a period's page show (one provider: reconciliation). Without one they show empty.

- A *month source* says which months an app has data in: ``months(*, organization) -> set[date]`` and
  ``has_month(*, organization, period) -> bool`` (usage by its days, invoices by their billing month). The
  board lists a month that has a period row or any source's data.

Every hook is called with keyword arguments. Apps register in ``AppConfig.ready()``; registration is
idempotent (a function is kept once).
"""

from collections import defaultdict
from collections.abc import Callable

TRANSITION_NAMES = ("start_reconciliation", "submit_for_review", "approve", "close", "reopen", "send_back")


class Blocker(str):
    """A guard's message that names what blocks, with a link to it (the open dispute, the earlier period):
    a plain ``str`` everywhere (the API's messages, the audit), and ``url`` for the page to link."""

    url: str = ""

    def __new__(cls, message: str, url: str = ""):
        instance = super().__new__(cls, message)
        instance.url = url
        return instance


Guard = Callable[..., "str | None"]
Effect = Callable[..., None]
Fact = Callable[[list], dict]
Check = Callable[..., None]
Figures = Callable[..., dict]

_guards: dict[str, list[Guard]] = defaultdict(list)
_effects: dict[str, list[Effect]] = defaultdict(list)
_facts: dict[str, Fact] = {}
_checks: dict[str, list[Check]] = defaultdict(list)
_figures: list[Figures] = []
_warnings: dict[str, list[Callable[..., "str | None"]]] = defaultdict(list)
_month_sources: dict[str, tuple[Callable[..., set], Callable[..., bool]]] = {}


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


def register_check(transition: str, check: Check) -> None:
    _check(transition)
    if check not in _checks[transition]:
        _checks[transition].append(check)


def checks_for(transition: str) -> list[Check]:
    return list(_checks[transition])


def register_warning(transition: str, warning: Callable[..., "str | None"]) -> None:
    _check(transition)
    if warning not in _warnings[transition]:
        _warnings[transition].append(warning)


def warnings_for(transition: str) -> list[Callable[..., "str | None"]]:
    return list(_warnings[transition])


def register_period_figures(fn: Figures) -> None:
    """Set the one provider of the periods' figures (registering again replaces it)."""
    _figures[:] = [fn]


def period_figures() -> Figures | None:
    return _figures[0] if _figures else None


def register_month_source(name: str, *, months: Callable[..., set], has_month: Callable[..., bool]) -> None:
    """Add (or, under the same name, replace) an app's months with data."""
    _month_sources[name] = (months, has_month)


def month_sources() -> dict[str, tuple[Callable[..., set], Callable[..., bool]]]:
    return dict(_month_sources)


def register_period_fact(label: str, fn: Fact) -> None:
    """Add a column to the periods board (and a line to a period's page); registering a label again
    replaces its function."""
    if not label.strip():
        raise ValueError("A period fact needs a label.")
    _facts[label] = fn


def period_facts() -> dict[str, Fact]:
    """The registered facts by label, in registration order."""
    return dict(_facts)
