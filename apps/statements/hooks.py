"""How apps above statements add to a statement's page without ``statements`` importing them.

- A *statement context* is ``fn(*, membership, statement) -> dict``: extra template context for the page of
  one statement, as seen by ``membership`` (e.g. the disputes app adds ``disputes``, the statement's
  disputes the member may see). ``statement_detail`` merges every registered function's dict, in
  registration order.

Apps register in ``AppConfig.ready()``; registration is idempotent (a function is kept once).
"""

from collections.abc import Callable

StatementContext = Callable[..., dict]

_statement_contexts: list[StatementContext] = []


def register_statement_context(fn: StatementContext) -> None:
    if fn not in _statement_contexts:
        _statement_contexts.append(fn)


def statement_context(*, membership, statement) -> dict:
    """The registered functions' context for one statement's page, merged."""
    context: dict = {}
    for fn in _statement_contexts:
        context.update(fn(membership=membership, statement=statement))
    return context
