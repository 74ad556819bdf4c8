"""The cost estimator: what one request costs by cost source, exactly, in integer nano-units.

Pure: ``PriceBook`` is built from plain rows (``PriceRule``, aliases, ``OverrideRule``) and does its
maths with integers and Decimals only; it imports no model. The rows come from the database through
``apps.pricing.selectors.price_book_for`` (or from the file, ``book_file.price_book_from_file``).
Ingestion calls ``estimate`` for millions of rows, so the price table of each (provider, model, tier,
day, region scope) is resolved once and cached as integer rates; a call is then a few dict look-ups
and integer multiplications.

Rules, in the order they apply:

- the model is resolved to its canonical code (``resolve_model``): an organisation's own model names
  first, then codes, aliases and the generic id rules; unknown → everything with a quantity is
  *unpriced* (never a silent zero);
- only rows of the request's service tier count for tokens (a batch request with no batch row is
  unpriced for that usage type, not charged at the standard rate); a tool call takes its tier's row,
  else a tier-less (``any``) or standard one (tools cost the same in every tier unless listed);
- region scope (Bedrock): rows of the request's scope win over scope-less rows; the scope comes from
  the model id (``global.`` → global, ``us.``/``eu.``/… or a bare vendor id → regional) unless given;
- a row applies when ``effective_from <= day < effective_to``;
- long context: a bucket's ``context_window`` decides (``0-200k`` base, ``200k-1M`` the long-context
  rates or unpriced); without one, when the prompt (input, cache reads and writes, audio and image
  input) exceeds a long-context row's ``min_context_tokens``, the long-context rate applies to every
  usage type that has one;
- audio and image usage types are priced only by their own rows (never at the text rate);
- organisation overrides: the most specific active override wins (model > provider-wide, then a
  usage type over all usage types, then a tier over all tiers). A negotiated price replaces the
  list price (the long-context one too); a discount reduces whichever list price applies;
- one estimate is in one currency: a rate in another currency than the table's is left unpriced;
- each cost source is summed exactly and rounded once, half-to-even, to nano-units.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, localcontext
from typing import NamedTuple

from .constants import (
    ANY_TIER,
    CONTEXT_WINDOWS,
    COST_SOURCE_OF,
    COST_SOURCES,
    LONG_CONTEXT_FROM,
    LONG_CONTEXT_WINDOW,
    PROMPT_USAGE_TYPES,
    REGION_SCOPES,
    TOKEN_USAGE_TYPES,
    UNIT_DIVISORS,
    USAGE_KEYS,
)

_PROMPT_TYPES = frozenset(PROMPT_USAGE_TYPES)
_NO_RATES: dict[str, int] = {}  # a "200k-1M" bucket of a model without long-context rates: nothing priced

# Rates are kept as integers of 10**-30 nano-units per unit of quantity, so a whole estimate is
# integer arithmetic. Prices carry at most 10 decimals, discounts 2 and units divide by up to 10**6,
# which stays well inside 30 digits; anything finer is refused rather than rounded.
_RATE_SCALE_DIGITS = 30
_RATE_SCALE = 10**_RATE_SCALE_DIGITS
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PriceRule:
    """One list price: ``price`` per ``unit`` of ``usage_type``."""

    provider: str
    model: str
    service_tier: str
    usage_type: str
    unit: str
    price: Decimal
    currency: str = "USD"
    effective_from: date = date.min
    effective_to: date | None = None  # exclusive
    min_context_tokens: int | None = None  # a long-context rate, for prompts above this many tokens
    # "" applies everywhere; "global" / "regional": only to requests of that scope (Bedrock's global
    # cross-region profiles are list price, its geographic profiles of newer Claude models cost more).
    region_scope: str = ""

    def applies_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


@dataclass(frozen=True, slots=True)
class OverrideRule:
    """An organisation's negotiated price (``price`` per ``unit``) or ``discount_pct`` off list.
    ``model`` None means every model of the provider; an empty usage type or tier means all."""

    provider: str
    model: str | None = None
    usage_type: str = ""
    service_tier: str = ""
    price: Decimal | None = None
    unit: str = ""
    discount_pct: Decimal | None = None
    effective_from: date = date.min
    effective_to: date | None = None
    id: int = 0  # only breaks ties between equally specific overrides (the newer one wins)
    currency: str = ""  # a negotiated price's currency ("" = the list's; a discount has none)

    def applies_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        return (self.model is not None, bool(self.usage_type), bool(self.service_tier))


class Estimate(NamedTuple):
    """Immutable; a named tuple because ingest builds one per request (about half a frozen dataclass's
    construction cost)."""

    model: str | None  # canonical code; None when the model is unknown
    cost_nano: dict[str, int]  # by cost source: input, output, cache_read, cache_write, tool_calls
    total_nano: int
    unpriced: tuple[str, ...]  # usage types with a quantity but no price
    long_context: bool
    currency: str = "USD"


def scaled_rate(price: Decimal, unit: str, discount_pct: Decimal | None = None) -> int:
    """``price`` per ``unit`` as an integer rate of 10**-30 nano-units per token or call."""
    if isinstance(price, float) or isinstance(discount_pct, float):
        raise TypeError("prices and discounts must be Decimals, not floats")
    try:
        divisor = UNIT_DIVISORS[unit]
    except KeyError:
        raise ValueError(f"unknown price unit {unit!r}") from None
    with localcontext() as context:
        context.prec = 100
        value = Decimal(price).scaleb(9 + _RATE_SCALE_DIGITS) / divisor
        if discount_pct is not None:
            value = value * (_HUNDRED - Decimal(discount_pct)) / _HUNDRED
        integral = value.to_integral_value()
        if integral != value:
            raise ValueError(f"price {price} per {unit} has more decimal places than the estimator keeps")
    return int(integral)


def _round_scaled(numerator: int) -> int:
    """numerator / 10**30 rounded half-to-even (numerator is never negative)."""
    quotient, remainder = divmod(numerator, _RATE_SCALE)
    twice = 2 * remainder
    if twice > _RATE_SCALE or (twice == _RATE_SCALE and quotient % 2):
        quotient += 1
    return quotient


@dataclass(slots=True)
class _PriceTable:
    base: dict[str, int]
    long_context: list[tuple[int, dict[str, int]]]  # (threshold, rates), highest threshold first
    currency: str
    # Rates are in 10**-30 nano-units (scale _RATE_SCALE) unless every one of them is a whole number of
    # nano-units, as list prices and most discounts are: then they are kept in nano-units (scale 1)
    # and a cost needs no rounding at all.
    scale: int = _RATE_SCALE


def _whole_nano(table: _PriceTable) -> _PriceTable:
    rate_dicts = [table.base, *(rates for _threshold, rates in table.long_context)]
    if any(rate % _RATE_SCALE for rates in rate_dicts for rate in rates.values()):
        return table
    return _PriceTable(
        base={key: rate // _RATE_SCALE for key, rate in table.base.items()},
        long_context=[
            (threshold, {key: rate // _RATE_SCALE for key, rate in rates.items()})
            for threshold, rates in table.long_context
        ],
        currency=table.currency,
        scale=1,
    )


_MISSING = object()
# Bedrock ids that run in one geography: a geographic inference profile or the bare vendor id.
_REGIONAL_PREFIX = re.compile(
    r"^((us|eu|apac|jp|au|ca|us-gov)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|openai|google|deepseek|qwen)\."
)
_PREFIXES = (
    re.compile(r"^models/"),  # Gemini API resource names
    re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\."),  # Bedrock cross-region inference profiles
    re.compile(r"^(anthropic|amazon|meta|mistral|cohere|ai21|openai|google)\."),  # Bedrock vendor prefix
)
_SUFFIXES = (
    re.compile(r"-v\d+(:\d+)?$"),  # Bedrock version, e.g. -v1:0
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # dated snapshot, e.g. gpt-4o-2024-08-06
    re.compile(r"-\d{8}$"),  # dated snapshot, e.g. claude-sonnet-4-5-20250929
)


class PriceBook:
    def __init__(
        self,
        rows: list[PriceRule],
        aliases: dict[tuple[str, str], str],
        overrides: list[OverrideRule],
        *,
        models: Iterable[tuple[str, str]] = (),
        version: int | None = None,
        org_models: Mapping[tuple[str, str], str | None] | None = None,
    ):
        self.version = version  # the price-book version the list rows come from (None: unversioned)
        # An organisation's own model names (a deployment, a fine-tune), looked up before anything else:
        # (provider, name) -> the canonical code it is priced as, or None: priced only by the
        # organisation's overrides that name it (OverrideRule.model == the name).
        self._org_models = {
            (p.lower(), n.lower()): (m.lower() if m else None) for (p, n), m in (org_models or {}).items()
        }
        self._rows: dict[tuple[str, str], list[PriceRule]] = {}
        for row in rows:
            self._rows.setdefault((row.provider, row.model), []).append(row)
        self._models = {(p.lower(), m.lower()) for p, m in models} | set(self._rows)
        self._aliases = {(p.lower(), a.lower()): m for (p, a), m in aliases.items()}
        self._models |= {(p, m) for (p, _), m in self._aliases.items()}
        self._overrides: dict[str, list[OverrideRule]] = {}
        for override in overrides:
            if override.model is not None and override.model != override.model.lower():
                override = replace(override, model=override.model.lower())  # an organisation's own name
            self._overrides.setdefault(override.provider, []).append(override)
        self._resolved: dict[tuple[str, str], str | None] = {}
        # (provider, model, tier, day) as given -> (canonical model, price table): one look-up a request.
        self._routes: dict[tuple, tuple[str | None, _PriceTable | None]] = {}
        self._tables: dict[tuple[str, str, str, date], _PriceTable] = {}

    # --- model names ------------------------------------------------------------------------------

    def resolve_model(self, provider: str, raw_model: str) -> str | None:
        """The canonical model code: exact code, then the alias table, then generic rules (Bedrock
        region and vendor prefixes, ``-v1:0`` suffixes, trailing dates), else None."""
        key = (provider, raw_model)
        cached = self._resolved.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        resolved = self._resolve((provider or "").strip().lower(), (raw_model or "").strip().lower())
        self._resolved[key] = resolved
        return resolved

    def _lookup(self, provider: str, name: str) -> str | None:
        if (provider, name) in self._models:
            return name
        return self._aliases.get((provider, name))

    def _resolve(self, provider: str, name: str) -> str | None:
        if (provider, name) in self._org_models:
            return self._org_models[(provider, name)] or name
        found = self._lookup(provider, name)
        if found or not name:
            return found
        for pattern in (*_PREFIXES, *_SUFFIXES):
            stripped = pattern.sub("", name)
            if stripped != name and stripped:
                name = stripped
                found = self._lookup(provider, name)
                if found:
                    return found
        return None

    # --- prices -----------------------------------------------------------------------------------

    def _override_for(self, provider: str, model: str, usage_type: str, tier: str, day: date) -> OverrideRule | None:
        best, best_key = None, None
        for override in self._overrides.get(provider, ()):
            if override.model is not None and override.model != model:
                continue
            if override.usage_type and override.usage_type != usage_type:
                continue
            if override.service_tier and override.service_tier != tier:
                continue
            if not override.applies_on(day):
                continue
            key = (override.specificity, override.effective_from, override.id)
            if best_key is None or key > best_key:
                best, best_key = override, key
        return best

    def _rank(self, row: PriceRule, tier: str, scope: str) -> tuple[int, int] | None:
        """How well a row fits a request of ``tier`` and region ``scope`` (higher wins), None: not at all.
        Tier: the request's own tier; a tier-less ("any") row; for tools only, the standard row (a tool
        call costs the same in every tier unless the book says otherwise, e.g. Anthropic's web search
        has no batch rate). Scope: a row of the request's scope, then a scope-less row; a request whose
        scope is unknown takes a "global" row (the list price) after the scope-less one."""
        if row.service_tier == tier:
            tier_rank = 2
        elif row.service_tier == ANY_TIER:
            tier_rank = 1
        elif row.service_tier == "standard" and row.usage_type not in TOKEN_USAGE_TYPES:
            tier_rank = 0
        else:
            return None
        if not row.region_scope:
            scope_rank = 1
        elif row.region_scope == scope:
            scope_rank = 2
        elif not scope and row.region_scope == "global":
            scope_rank = 0
        else:
            return None
        return tier_rank, scope_rank

    def _table(self, provider: str, model: str, tier: str, day: date, scope: str = "") -> _PriceTable:
        key = (provider, model, tier, day, scope)
        table = self._tables.get(key)
        if table is not None:
            return table
        # Per (usage type, threshold) the best-fitting row in force on the day; the latest start wins an
        # overlap between equally fitting rows.
        chosen: dict[tuple[str, int | None], tuple[tuple, PriceRule]] = {}
        for row in self._rows.get((provider, model), ()):
            if not row.applies_on(day):
                continue
            rank = self._rank(row, tier, scope)
            if rank is None:
                continue
            slot = (row.usage_type, row.min_context_tokens)
            order = (*rank, row.effective_from)
            if slot not in chosen or order > chosen[slot][0]:
                chosen[slot] = (order, row)
        base: dict[str, int] = {}
        long_context: dict[int, dict[str, int]] = {}
        overrides: dict[str, OverrideRule | None] = {}
        # The currency of every rate: the list row's (a discount keeps it) or the negotiated price's.
        currency_of: dict[tuple[str, int | None], str] = {}

        def override(usage_type: str) -> OverrideRule | None:
            if usage_type not in overrides:
                overrides[usage_type] = self._override_for(provider, model, usage_type, tier, day)
            return overrides[usage_type]

        for (usage_type, threshold), (_order, row) in chosen.items():
            found = override(usage_type)
            if found is None:
                rate, currency = scaled_rate(row.price, row.unit), row.currency
            elif found.price is not None:
                rate, currency = scaled_rate(found.price, found.unit), found.currency or row.currency
            else:
                rate, currency = scaled_rate(row.price, row.unit, found.discount_pct), row.currency
            currency_of[(usage_type, threshold)] = currency
            if threshold is None:
                base[usage_type] = rate
            else:
                long_context.setdefault(threshold, {})[usage_type] = rate
        # A negotiated price for a usage type the list does not price (e.g. a tier only the contract has,
        # or a model only the organisation has).
        for candidate in self._overrides.get(provider, ()):
            if candidate.price is not None and candidate.usage_type and candidate.usage_type not in base:
                found = override(candidate.usage_type)
                if found is not None and found.price is not None:
                    base[candidate.usage_type] = scaled_rate(found.price, found.unit)
                    currency_of[(candidate.usage_type, None)] = found.currency or "USD"
        currency = _table_currency(currency_of, overrides)
        if any(rate_currency != currency for rate_currency in currency_of.values()):
            # One estimate is in one currency: a rate in another is left unpriced, never summed with it.
            for (usage_type, threshold), rate_currency in currency_of.items():
                if rate_currency != currency:
                    if threshold is None:
                        base.pop(usage_type, None)
                    else:
                        long_context[threshold].pop(usage_type, None)
        table = _whole_nano(
            _PriceTable(
                base=base,
                long_context=sorted(((t, r) for t, r in long_context.items() if r), reverse=True),
                currency=currency,
            )
        )
        self._tables[key] = table
        return table

    def region_scope_of(self, raw_model: str) -> str:
        """ "global" for a global cross-region inference profile (``global.``), "regional" for a geographic
        profile (``us.``, ``eu.``, ``apac.`` …) or a bare vendor id (``anthropic.…``: the region itself),
        "" when the id does not say."""
        name = (raw_model or "").strip().lower()
        if name.startswith("global."):
            return "global"
        if _REGIONAL_PREFIX.match(name):
            return "regional"
        return ""

    def estimate(
        self,
        *,
        provider: str,
        model: str,
        service_tier: str,
        occurred_on: date,
        usage: Mapping[str, int],
        tool_calls: Mapping[str, int],
        context_window: str | None = None,
        region_scope: str = "",
    ) -> Estimate:
        """What one request (or one provider-reported bucket of requests) costs.

        ``context_window``: the pricing tier a provider's report put a bucket in ("0-200k": base rates,
        "200k-1M": the long-context rates, whatever the bucket's token sum); None decides from the
        request's own prompt. ``region_scope``: "global" / "regional" when known from elsewhere; ""
        derives it from the model id (Bedrock inference profiles)."""
        quantities: dict[str, int] = {}
        for key, quantity in usage.items():
            if quantity:
                usage_type = USAGE_KEYS.get(key)
                if usage_type is None:
                    continue  # not a priced quantity (e.g. a total)
                valid = type(quantity) is int and quantity > 0
                quantities[usage_type] = quantity if valid else _check_quantity(quantity, key)
        tools: dict[str, int] = {}
        for tool, calls in tool_calls.items():
            if calls:
                tools[str(tool).strip().lower()] = tools.get(str(tool).strip().lower(), 0) + _check_quantity(
                    calls, f"tool_calls[{tool}]"
                )
        if context_window is not None and context_window not in CONTEXT_WINDOWS:
            raise ValueError(f"context_window must be one of {', '.join(CONTEXT_WINDOWS)}, got {context_window!r}")
        route_key = (provider, model, service_tier, occurred_on, region_scope)
        route = self._routes.get(route_key)
        if route is None:
            if region_scope not in REGION_SCOPES:
                raise ValueError(
                    f"region_scope must be one of {', '.join(map(repr, REGION_SCOPES))}, got {region_scope!r}"
                )
            provider_code = (provider or "").strip().lower()
            resolved = self.resolve_model(provider_code, model)
            tier = (service_tier or "standard").strip().lower()
            scope = region_scope or self.region_scope_of(model)
            table = None if resolved is None else self._table(provider_code, resolved, tier, occurred_on, scope)
            if len(self._routes) > 100_000:
                self._routes.clear()
            route = self._routes[route_key] = (resolved, table)
        resolved, table = route
        if table is None:
            return Estimate(
                model=None,
                cost_nano=dict.fromkeys(COST_SOURCES, 0),
                total_nano=0,
                unpriced=(*quantities, *sorted(tools)),
                long_context=False,
            )
        long_rates = None
        if context_window is None and table.long_context:
            prompt_tokens = 0
            for usage_type, quantity in quantities.items():
                if usage_type in _PROMPT_TYPES:
                    prompt_tokens += quantity
            for threshold, rates in table.long_context:
                if prompt_tokens > threshold:
                    long_rates = rates
                    break
        elif context_window == LONG_CONTEXT_WINDOW:
            # The bucket's requests were above 200K: the long-context rates up to that threshold; a model
            # without them has no price for such a bucket (never the base rates).
            long_rates = next(
                (rates for threshold, rates in table.long_context if threshold <= LONG_CONTEXT_FROM), _NO_RATES
            )
        sums = dict.fromkeys(COST_SOURCES, 0)
        unpriced: list[str] = []
        base = table.base
        for usage_type, quantity in quantities.items():
            if long_rates is _NO_RATES:
                rate = None
            else:
                rate = long_rates.get(usage_type) if long_rates is not None else None
                if rate is None:
                    rate = base.get(usage_type)
            if rate is None:
                unpriced.append(usage_type)
            else:
                sums[COST_SOURCE_OF[usage_type]] += quantity * rate
        for tool in sorted(tools):
            rate = base.get(tool)
            if rate is None:
                unpriced.append(tool)
            else:
                sums["tool_calls"] += tools[tool] * rate
        if table.scale == 1:
            cost_nano = sums
        else:
            cost_nano = {source: _round_scaled(value) if value else 0 for source, value in sums.items()}
        return Estimate(
            model=resolved,
            cost_nano=cost_nano,
            total_nano=sum(cost_nano.values()),
            unpriced=tuple(unpriced),
            long_context=long_rates is not None and long_rates is not _NO_RATES,
            currency=table.currency,
        )


def _table_currency(currency_of: dict, overrides: dict[str, OverrideRule | None]) -> str:
    """The currency of a price table: the only one its rates have; with several, the negotiated prices'
    (the organisation's contract), else the first in alphabetical order (never summed together)."""
    currencies = set(currency_of.values())
    if len(currencies) == 1:
        return currencies.pop()
    if not currencies:
        return "USD"
    negotiated = sorted(
        {o.currency for o in overrides.values() if o is not None and o.price is not None and o.currency}
    )
    return negotiated[0] if negotiated else sorted(currencies)[0]


def _check_quantity(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative")
    return value


__all__ = [
    "Estimate",
    "OverrideRule",
    "PriceBook",
    "PriceRule",
    "scaled_rate",
]
