"""How higher apps take part in changes to an organisation without ``tenancy`` importing them.

A *settings guard* is ``fn(*, organization) -> str | None``, registered for one of the organisation's settings
fields: a message that refuses a change of that field, or None. The organisation service
(``apps.accounts.services.organization_update``) asks the guards of a field only when its value changes,
with the stored row locked, and refuses the change with the first message, on that field. ``periods``
registers the guard on ``period_start_day`` (the fiscal calendar may not move once a period has left open); the
apps that hold figures in the base currency (runs, statements, budgets) register theirs on ``base_currency``
(nothing is ever re-converted, so the base currency is fixed once such figures exist).

Apps register in ``AppConfig.ready()``; registration is idempotent (a function is kept once).
"""

from collections import defaultdict
from collections.abc import Callable

SettingsGuard = Callable[..., "str | None"]

_settings_guards: dict[str, list[SettingsGuard]] = defaultdict(list)


def register_settings_guard(field: str, guard: SettingsGuard) -> None:
    if guard not in _settings_guards[field]:
        _settings_guards[field].append(guard)


def settings_guards_for(field: str) -> list[SettingsGuard]:
    return list(_settings_guards[field])
