"""How higher apps tell ``fx`` which rates an organisation needs, without ``fx`` importing them.

A *rate demand* is ``fn(*, organization) -> Iterable[tuple[str, date, date]]``: the currencies (other than the
base currency) an organisation holds amounts in, and the first and last day of those amounts that are still to
be converted (the open periods'). The exchange-rates page lists the days of those ranges that have no rate
(the gaps that will stop a run). Usage and invoices register theirs in ``AppConfig.ready()``; registration is
idempotent.
"""

from collections.abc import Callable

RateDemand = Callable[..., "object"]

_demands: list[RateDemand] = []


def register_rate_demand(demand: RateDemand) -> None:
    if demand not in _demands:
        _demands.append(demand)


def rate_demands() -> list[RateDemand]:
    return list(_demands)
