"""The allocation engine: a pure function from a period's cost cells, the invoice totals and one rule set to
allocation lines. No ORM and no Django here: ``runs.inputs`` turns database rows into these dataclasses.

How a period is allocated (README, "Allocation"):

1. Cells are grouped by (tagset, provider, model, tier, retry, cost source); rules see each group once.
2. Rules are walked in (position, rule_id) order and *claim* groups that no earlier rule claimed (Azure:
   earlier rules drain a source first). Direct and tag-map rules book a group to one owner; a shared pool
   with ``source="conditions"`` claims the groups its conditions pick.
3. Each owner's *direct* cost (and requests/tokens) is what direct and tag-map rules gave it over the whole
   period. Pools split by that basis only, never by what other pools gave (AWS: a pool's source is never
   another pool's target).
4. Pools with ``source="unallocated"`` run after every other rule, in order, over what is still unclaimed
   (including what an earlier pool could not split because none of its targets had any basis).
5. The invoice true-up of each provider (invoice total minus estimated total) goes first to pools with
   ``source="true_up"`` whose conditions match ``provider`` (the true-up looks like a cell with
   ``cost_source="true_up"`` and no tags), then to the ``TrueUpPolicy``.
   ``full_cost`` spreads it over the owners in proportion to everything allocated to them for that provider
   (direct and pool lines; Unallocated takes no part, and if no owner has cost for the provider the
   difference stays Unallocated). ``usage_only`` books it to ``central_owner``. ``none`` leaves it
   Unallocated, visibly. Policy lines have ``rule_id=""`` and ``method="true_up"``.
6. Whatever is left is Unallocated, reported with a reason, never silently assigned.

Pool targets: ``fixed`` needs percentages adding up to 100. For the other methods an optional
``weight_pct`` multiplies the target's basis (even: 1; proportional: direct cost; usage: direct requests or
tokens), which is how a pool is shared to a weighted subset. A target whose weighted basis is zero gets
nothing; if every target's is zero the component stays Unallocated (Azure's rule for a zero-cost target).
The caller puts a cube row's requests on one of its cost-source cells only, so usage is not counted twice.
A line's feature is the cell's ``feature`` tag ("" when untagged).

Amounts are integers of nano-units. Every split is largest-remainder rounding to whole nano-units with ties
broken by owner code, so sum(lines) + unallocated == pool total exactly. Shares in a pool are taken per
component (feature, provider, model, cost source) of the pool, so each line says which cost it shares.

Inputs must be non-negative (credits reach the period through the invoice true-up). A negative true-up
(invoice below the estimate) gives negative true-up lines; every other line is non-negative.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Literal

CELL_FIELDS = ("provider", "model", "service_tier", "cost_source", "is_retry")
OPERATORS = ("equals", "in", "exists", "missing", "glob")
SHARE_PLACES = Decimal("1.000000000000")
TRUE_UP_SOURCE = "true_up"
FEATURE_TAG = "feature"

Method = Literal["direct", "tag_map", "even", "fixed", "proportional", "usage", "true_up"]


# --- inputs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    tagset_id: int
    tags: Mapping[str, str]
    provider: str
    model: str
    service_tier: str
    is_retry: bool
    cost_source: str
    amount_nano: int
    requests: int
    tokens: int


@dataclass(frozen=True)
class Condition:
    field: str  # "tag:<key>" or one of CELL_FIELDS
    op: str  # one of OPERATORS
    value: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Target:
    owner: str
    weight_pct: Decimal | None = None


@dataclass(frozen=True)
class DirectRule:
    rule_id: str
    name: str
    position: int
    conditions: tuple[Condition, ...]
    owner: str


@dataclass(frozen=True)
class TagMapRule:
    rule_id: str
    name: str
    position: int
    dimension: str
    mapping: Mapping[str, str]
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class SharedPoolRule:
    rule_id: str
    name: str
    position: int
    conditions: tuple[Condition, ...]
    source: str  # "conditions" | "unallocated" | "true_up"
    targets: tuple[Target, ...]
    method: str  # "even" | "fixed" | "proportional" | "usage"
    usage_basis: str = "requests"  # "requests" | "tokens"
    same_provider: bool = False


@dataclass(frozen=True)
class TrueUpPolicy:
    mode: str  # "full_cost" | "usage_only" | "none"
    central_owner: str | None = None


Rule = DirectRule | TagMapRule | SharedPoolRule


# --- outputs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    owner: str
    feature: str
    provider: str
    model: str
    cost_source: str
    amount_nano: int
    rule_id: str
    method: str
    basis_nano: int
    share: Decimal
    explanation: str
    labels: tuple[str, ...] = ()  # tag-map lines: the "dimension=value" labels the line sums


@dataclass(frozen=True)
class UnallocatedItem:
    """Part of the Unallocated amount and why nothing claimed it."""

    feature: str
    provider: str
    model: str
    cost_source: str
    amount_nano: int
    reason: str


@dataclass(frozen=True)
class AllocationResult:
    lines: tuple[Line, ...]
    unallocated_nano: int
    pool_total_nano: int  # estimated cost of the cells + every provider's true-up
    inputs_hash: str
    estimated_total_nano: int = 0
    true_up_nano: int = 0
    unallocated: tuple[UnallocatedItem, ...] = field(default=())


# --- splitting --------------------------------------------------------------------------------------------


def split_largest_remainder(amount_nano: int, weights: Mapping[str, Fraction | int | Decimal]) -> dict[str, int]:
    """Split an integer amount by non-negative weights: everyone gets the floor of their exact share, and
    the units left over go one each to the largest fractional remainders, ties to the lowest owner code.
    A zero weight never gets a unit. A negative amount is split as its magnitude, then negated."""
    if amount_nano < 0:
        return {owner: -part for owner, part in split_largest_remainder(-amount_nano, weights).items()}
    exact_weights = {owner: Fraction(weight) for owner, weight in weights.items()}
    if any(weight < 0 for weight in exact_weights.values()):
        raise ValueError("Split weights cannot be negative.")
    total_weight = sum(exact_weights.values(), Fraction(0))
    if total_weight <= 0:
        raise ValueError("Split weights must not all be zero.")
    floors: dict[str, int] = {}
    remainders: list[tuple[Fraction, str]] = []
    for owner, weight in exact_weights.items():
        exact = amount_nano * weight / total_weight
        floors[owner] = exact.numerator // exact.denominator
        remainders.append((exact - floors[owner], owner))
    left_over = amount_nano - sum(floors.values())
    remainders.sort(key=lambda item: (-item[0], item[1]))
    for _, owner in remainders[:left_over]:
        floors[owner] += 1
    return floors


def _share(part: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        return (Decimal(part.numerator) / Decimal(part.denominator)).quantize(SHARE_PLACES, rounding=ROUND_HALF_EVEN)


def _money(nano: int, exponent: int, symbol: str) -> str:
    with localcontext() as context:
        context.prec = 60
        value = (Decimal(nano) / Decimal(10**9)).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.{exponent}f}"


def _percent(share: Fraction) -> str:
    with localcontext() as context:
        context.prec = 60
        value = (Decimal(share.numerator) * 100 / Decimal(share.denominator)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_EVEN
        )
    text = f"{value:f}".rstrip("0").rstrip(".")
    return f"{text}%"


# --- conditions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GroupKey:
    tagset_id: int
    provider: str
    model: str
    service_tier: str
    is_retry: bool
    cost_source: str


@dataclass
class _Group:
    key: _GroupKey
    tags: Mapping[str, str]
    amount_nano: int = 0
    requests: int = 0
    tokens: int = 0

    @property
    def feature(self) -> str:
        return self.tags.get(FEATURE_TAG, "")

    @property
    def component(self) -> tuple[str, str, str, str]:
        return (self.feature, self.key.provider, self.key.model, self.key.cost_source)


def _field_value(group_key: _GroupKey, tags: Mapping[str, str], field_name: str) -> str | None:
    if field_name.startswith("tag:"):
        return tags.get(field_name[4:])
    if field_name == "is_retry":
        return "true" if group_key.is_retry else "false"
    return getattr(group_key, field_name)


def _matches(condition: Condition, group_key: _GroupKey, tags: Mapping[str, str]) -> bool:
    value = _field_value(group_key, tags, condition.field)
    present = value is not None and value != ""
    if condition.op == "exists":
        return present
    if condition.op == "missing":
        return not present
    if not present:
        return False
    if condition.op == "equals":
        return value == _as_text(condition.value)
    if condition.op == "in":
        return value in {_as_text(item) for item in (condition.value or ())}
    return fnmatchcase(value, str(condition.value))  # glob


def _as_text(value) -> str:
    # is_retry is compared as "true"/"false"; a caller passing a bool means the same thing.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _all_match(conditions: Sequence[Condition], group_key: _GroupKey, tags: Mapping[str, str]) -> bool:
    return all(_matches(condition, group_key, tags) for condition in conditions)


# --- validation -------------------------------------------------------------------------------------------


def _validate(rules: Sequence[Rule], true_up: TrueUpPolicy, owner_codes: Collection[str]) -> None:
    known = set(owner_codes)
    seen_ids: set[str] = set()

    def check_owner(owner: str | None, rule_name: str) -> None:
        if not owner or owner not in known:
            raise ValueError(f"Rule “{rule_name}” names budget owner “{owner}”, which is not a known owner.")

    for rule in rules:
        if rule.rule_id in seen_ids:
            raise ValueError(f"Two rules share the id “{rule.rule_id}”.")
        seen_ids.add(rule.rule_id)
        for condition in getattr(rule, "conditions", ()):
            if not (condition.field.startswith("tag:") and len(condition.field) > 4) and (
                condition.field not in CELL_FIELDS
            ):
                raise ValueError(f"Rule “{rule.name}” has a condition on unknown field “{condition.field}”.")
            if condition.op not in OPERATORS:
                raise ValueError(f"Rule “{rule.name}” has an unknown operator “{condition.op}”.")
        if isinstance(rule, DirectRule):
            check_owner(rule.owner, rule.name)
        elif isinstance(rule, TagMapRule):
            for owner in rule.mapping.values():
                check_owner(owner, rule.name)
        elif isinstance(rule, SharedPoolRule):
            if rule.source not in ("conditions", "unallocated", "true_up"):
                raise ValueError(f"Rule “{rule.name}” has an unknown pool source “{rule.source}”.")
            if rule.method not in ("even", "fixed", "proportional", "usage"):
                raise ValueError(f"Rule “{rule.name}” has an unknown split method “{rule.method}”.")
            if rule.usage_basis not in ("requests", "tokens"):
                raise ValueError(f"Rule “{rule.name}” shares usage by “{rule.usage_basis}”: use requests or tokens.")
            if not rule.targets:
                raise ValueError(f"Rule “{rule.name}” shares a pool but names no budget owners to share it.")
            owners = [target.owner for target in rule.targets]
            if len(set(owners)) != len(owners):
                raise ValueError(f"Rule “{rule.name}” names the same budget owner twice.")
            for target in rule.targets:
                check_owner(target.owner, rule.name)
                if target.weight_pct is not None and target.weight_pct < 0:
                    raise ValueError(f"Rule “{rule.name}” gives {target.owner} a negative percentage.")
            if rule.method == "fixed":
                weights = [target.weight_pct for target in rule.targets]
                if any(weight is None for weight in weights) or sum(weights) != 100:
                    raise ValueError(f"Rule “{rule.name}” is a fixed split: its percentages must add up to 100.")
        else:
            raise TypeError(f"Unknown rule type {type(rule).__name__}.")
    if true_up.mode not in ("full_cost", "usage_only", "none"):
        raise ValueError(f"Unknown true-up policy “{true_up.mode}”.")
    if true_up.mode == "usage_only":
        check_owner(true_up.central_owner, "invoice true-up")


# --- the hash ---------------------------------------------------------------------------------------------


def _canonical(value):
    if isinstance(value, Decimal):
        return f"D:{value.normalize():f}"
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in sorted(value.items())}
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {"_type": type(value).__name__} | {
            name: _canonical(getattr(value, name)) for name in value.__dataclass_fields__
        }
    return value


def _cell_text(cell: Cell) -> str:
    # The hot path of the hash: a flat, fixed-order list per cell rather than the generic walk.
    return json.dumps(
        [
            cell.tagset_id,
            sorted((str(key), str(value)) for key, value in cell.tags.items()),
            cell.provider,
            cell.model,
            cell.service_tier,
            cell.is_retry,
            cell.cost_source,
            cell.amount_nano,
            cell.requests,
            cell.tokens,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )


def inputs_hash(
    *,
    cells: Sequence[Cell],
    invoice_totals_nano: Mapping[str, int],
    rules: Sequence[Rule],
    true_up: TrueUpPolicy,
    owner_codes: Collection[str],
    currency_exponent: int,
    currency_symbol: str = "",
    fx: Sequence = (),
) -> str:
    """sha256 of the inputs in a canonical order: equal inputs in any order give the same hash. ``fx``: the
    exchange rates the cells and invoice totals were converted with (left out when nothing was converted, so
    a single-currency run hashes as before)."""
    document = {
        "cells": sorted(_cell_text(cell) for cell in cells),
        "invoice_totals_nano": _canonical(dict(invoice_totals_nano)),
        "rules": [_canonical(rule) for rule in sorted(rules, key=lambda rule: (rule.position, rule.rule_id))],
        "true_up": _canonical(true_up),
        "owner_codes": sorted(owner_codes),
        "currency_exponent": currency_exponent,
        "currency_symbol": currency_symbol,
    }
    if fx:
        document["fx"] = sorted(_canonical(entry) for entry in fx)
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


# --- the engine -------------------------------------------------------------------------------------------


@dataclass
class _LineBuilder:
    """Lines of the same owner, component, rule and method are summed, so a tag map over many tag sets
    gives one line per owner and component."""

    amount_nano: int = 0
    basis_nano: int = 0
    share: Fraction = Fraction(1)
    labels: set[str] = field(default_factory=set)
    explain: Callable[[_LineBuilder], str] | None = None


def allocate(
    *,
    cells: Iterable[Cell],
    invoice_totals_nano: Mapping[str, int],
    rules: Sequence[Rule],
    true_up: TrueUpPolicy,
    owner_codes: Collection[str],
    currency_exponent: int = 2,
    currency_symbol: str = "",
    fx: Sequence = (),
) -> AllocationResult:
    """Allocate a period, in the phases the module docstring describes: check and hash the inputs, group
    the cells, let direct and tag-map rules claim and book, split the pools, book the invoice true-up,
    and return the lines and the Unallocated remainder (which must foot to the pool total)."""
    cells = list(cells)
    rules = sorted(rules, key=lambda rule: (rule.position, rule.rule_id))
    _validate(rules, true_up, owner_codes)
    digest = inputs_hash(
        cells=cells,
        invoice_totals_nano=invoice_totals_nano,
        rules=rules,
        true_up=true_up,
        owner_codes=owner_codes,
        currency_exponent=currency_exponent,
        currency_symbol=currency_symbol,
        fx=fx,
    )
    books = _Books(
        money=functools.partial(_money, exponent=currency_exponent, symbol=currency_symbol),
        groups=_group_cells(cells),
    )
    _claim(books, rules)
    _split_pools(books, rules)
    estimated_by_provider = _estimated_by_provider(books.groups)
    true_up_by_provider = {
        provider: int(invoice_total) - estimated_by_provider.get(provider, 0)
        for provider, invoice_total in invoice_totals_nano.items()
    }
    _book_true_up(books, rules, true_up, true_up_by_provider)
    return _result(books, digest, estimated_by_provider, true_up_by_provider)


# --- the phases -------------------------------------------------------------------------------------------


@dataclass
class _Books:
    """The state of one allocation while its phases run: the lines booked so far (summed by owner,
    component, rule and method), which groups are claimed, each owner's direct cost and usage (the basis
    pools split by), and what is still Unallocated and why."""

    money: Callable[[int], str]
    groups: list[_Group]  # in a total order
    lines: dict[tuple, _LineBuilder] = field(default_factory=dict)
    claimed: set[_GroupKey] = field(default_factory=set)
    pool_claims: defaultdict[str, list[_Group]] = field(default_factory=lambda: defaultdict(list))
    direct_cost: defaultdict[tuple[str, str | None], int] = field(  # (owner, provider or None)
        default_factory=lambda: defaultdict(int)
    )
    direct_usage: defaultdict[tuple[str, str | None, str], int] = field(  # (owner, provider or None, basis)
        default_factory=lambda: defaultdict(int)
    )
    unallocated_reason: dict[_GroupKey, str] = field(default_factory=dict)
    unallocated_true_up: list[tuple[str, int, str]] = field(default_factory=list)  # (provider, amount, reason)

    def add_line(self, key: tuple, amount: int, basis: int, share: Fraction, label: str, explanation) -> None:
        builder = self.lines.setdefault(key, _LineBuilder(share=share))
        builder.amount_nano += amount
        builder.basis_nano += basis
        builder.labels.add(label)
        builder.explain = explanation  # rendered once, at the end, with the summed amounts

    def book_direct(self, group: _Group, owner: str) -> None:
        """Count a group booked straight to an owner in the owner's direct cost and usage."""
        for provider_key in (None, group.key.provider):
            self.direct_cost[(owner, provider_key)] += group.amount_nano
            self.direct_usage[(owner, provider_key, "requests")] += group.requests
            self.direct_usage[(owner, provider_key, "tokens")] += group.tokens

    def pool_weights(self, rule: SharedPoolRule, provider: str) -> dict[str, Fraction]:
        """Each target's weighted basis for sharing a pool's ``provider`` cost."""
        return {target.owner: self._basis(rule, target, provider) for target in rule.targets}

    def _basis(self, rule: SharedPoolRule, target: Target, provider: str) -> Fraction:
        provider_key = provider if rule.same_provider else None
        if rule.method == "even" or rule.method == "fixed":
            basis = Fraction(1)
        elif rule.method == "proportional":
            basis = Fraction(self.direct_cost[(target.owner, provider_key)])
        else:
            basis = Fraction(self.direct_usage[(target.owner, provider_key, rule.usage_basis)])
        if target.weight_pct is not None:
            basis *= Fraction(target.weight_pct)
        return basis

    def split_and_book(
        self,
        amount: int,
        weights: Mapping[str, Fraction | int],
        line_key: Callable[[str], tuple],
        explanation: Callable[[Fraction], Callable[[_LineBuilder], str]],
    ) -> bool:
        """Split ``amount`` by ``weights`` (largest remainder) and book one line per owner with a weight;
        an owner whose weight is zero gets no line, not even a zero one. False, and nothing booked, when
        every weight is zero."""
        total_weight = sum(weights.values(), Fraction(0))
        if total_weight == 0:
            return False
        parts = split_largest_remainder(amount, weights)
        for owner in sorted(parts):
            if weights[owner] == 0:
                continue
            share = Fraction(weights[owner]) / total_weight
            self.add_line(line_key(owner), parts[owner], amount, share, "", explanation(share))
        return True


def _group_cells(cells: Sequence[Cell]) -> list[_Group]:
    """Phase 1: the cells grouped by (tag set, provider, model, tier, retry, cost source), in a total order;
    rules are evaluated once per group, not per row."""
    groups: dict[_GroupKey, _Group] = {}
    tags_by_tagset: dict[int, dict[str, str]] = {}
    for cell in cells:
        if cell.amount_nano < 0 or cell.requests < 0 or cell.tokens < 0:
            raise ValueError("Cost cells cannot be negative: credits reach a period through the invoice true-up.")
        tags = dict(cell.tags)
        if tags_by_tagset.setdefault(cell.tagset_id, tags) != tags:
            raise ValueError(f"Tag set {cell.tagset_id} arrives with two different sets of tags.")
        key = _GroupKey(cell.tagset_id, cell.provider, cell.model, cell.service_tier, cell.is_retry, cell.cost_source)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key=key, tags=tags_by_tagset[cell.tagset_id])
        group.amount_nano += cell.amount_nano
        group.requests += cell.requests
        group.tokens += cell.tokens
    return [groups[key] for key in sorted(groups, key=_sort_key_of_group)]


def _claim(books: _Books, rules: Sequence[Rule]) -> None:
    """Phase 2: claims, in rule order. Direct and tag-map rules book straight away; pools over their
    conditions only claim for now. What no rule claims is Unallocated."""
    for rule in rules:
        if isinstance(rule, SharedPoolRule) and rule.source != "conditions":
            continue
        for group in books.groups:
            if group.key in books.claimed or not _all_match(rule.conditions, group.key, group.tags):
                continue
            if isinstance(rule, SharedPoolRule):
                books.claimed.add(group.key)
                books.pool_claims[rule.rule_id].append(group)
                continue
            if isinstance(rule, DirectRule):
                owner, method, label = rule.owner, "direct", ""
            else:
                value = group.tags.get(rule.dimension)
                if value is None or value not in rule.mapping:
                    continue
                owner, method, label = rule.mapping[value], "tag_map", f"{rule.dimension}={value}"
            books.claimed.add(group.key)
            books.book_direct(group, owner)
            feature, provider, model, cost_source = group.component
            books.add_line(
                (owner, feature, provider, model, cost_source, rule.rule_id, method),
                group.amount_nano,
                group.amount_nano,
                Fraction(1),
                label,
                _direct_explanation(rule, provider, model, cost_source, books.money),
            )
    books.unallocated_reason.update(
        {group.key: "no rule claims it" for group in books.groups if group.key not in books.claimed}
    )


def _book_pool_component(
    books: _Books, rule: SharedPoolRule, component: tuple[str, str, str, str], amount: int, weights
) -> bool:
    """Book one component (feature, provider, model, cost source) of a pool to its targets."""
    feature, provider, model, cost_source = component
    return books.split_and_book(
        amount,
        weights,
        lambda owner: (owner, feature, provider, model, cost_source, rule.rule_id, rule.method),
        lambda share: _pool_explanation(rule, share, provider, model, cost_source, len(rule.targets), books.money),
    )


def _split_pool(books: _Books, rule: SharedPoolRule, pool_groups: list[_Group]) -> list[_Group]:
    """Book a pool to its targets, component by component; return the groups it could not split."""
    components: dict[tuple[str, str, str, str], list[_Group]] = defaultdict(list)
    for group in pool_groups:
        components[group.component].append(group)
    returned: list[_Group] = []
    weights_by_provider: dict[str, dict[str, Fraction]] = {}
    for component in sorted(components):
        provider = component[1]
        if provider not in weights_by_provider:
            weights_by_provider[provider] = books.pool_weights(rule, provider)
        amount = sum(group.amount_nano for group in components[component])
        if not _book_pool_component(books, rule, component, amount, weights_by_provider[provider]):
            returned.extend(components[component])
    return returned


def _split_pools(books: _Books, rules: Sequence[Rule]) -> None:
    """Phase 3: pools over their own conditions, then pools over the unallocated remainder, in order."""
    for rule in rules:
        if isinstance(rule, SharedPoolRule) and rule.source == "conditions":
            for group in _split_pool(books, rule, books.pool_claims[rule.rule_id]):
                books.unallocated_reason[group.key] = _zero_basis_reason(rule)
    for rule in rules:
        if not (isinstance(rule, SharedPoolRule) and rule.source == "unallocated"):
            continue
        taken = [
            group
            for group in books.groups
            if group.key in books.unallocated_reason and _all_match(rule.conditions, group.key, group.tags)
        ]
        for group in taken:
            del books.unallocated_reason[group.key]
        for group in _split_pool(books, rule, taken):
            books.unallocated_reason[group.key] = _zero_basis_reason(rule)


def _estimated_by_provider(groups: Iterable[_Group]) -> dict[str, int]:
    estimated: dict[str, int] = defaultdict(int)
    for group in groups:
        estimated[group.key.provider] += group.amount_nano
    return estimated


def _book_true_up(
    books: _Books, rules: Sequence[Rule], policy: TrueUpPolicy, true_up_by_provider: Mapping[str, int]
) -> None:
    """Phase 4: each provider's invoice true-up, to the first true-up pool whose conditions match the
    provider, else by the true-up policy."""
    # full_cost spreads by what was allocated before any true-up was booked.
    allocated_by_provider: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, builder in books.lines.items():
        owner, provider = key[0], key[2]
        allocated_by_provider[provider][owner] += builder.amount_nano
    true_up_pools = [rule for rule in rules if isinstance(rule, SharedPoolRule) and rule.source == TRUE_UP_SOURCE]
    for provider in sorted(true_up_by_provider):
        difference = true_up_by_provider[provider]
        if difference == 0:
            continue
        pseudo_key = _GroupKey(0, provider, "", "", False, TRUE_UP_SOURCE)
        pool = next((rule for rule in true_up_pools if _all_match(rule.conditions, pseudo_key, {})), None)
        if pool is not None:
            component = ("", provider, "", TRUE_UP_SOURCE)
            if not _book_pool_component(books, pool, component, difference, books.pool_weights(pool, provider)):
                books.unallocated_true_up.append((provider, difference, _zero_basis_reason(pool)))
        elif policy.mode == "none":
            books.unallocated_true_up.append((provider, difference, "the true-up policy books no invoice difference"))
        elif policy.mode == "usage_only":
            books.add_line(
                (policy.central_owner, "", provider, "", TRUE_UP_SOURCE, "", "true_up"),
                difference,
                difference,
                Fraction(1),
                "",
                lambda builder, provider=provider: (
                    f"100% of the {provider} invoice true-up {books.money(builder.basis_nano)}, "
                    "booked to the central owner (usage-only policy)"
                ),
            )
        elif not _book_full_cost_true_up(books, provider, difference, allocated_by_provider[provider]):
            books.unallocated_true_up.append(
                (provider, difference, f"no budget owner has allocated {provider} cost to spread the true-up by")
            )


def _book_full_cost_true_up(books: _Books, provider: str, difference: int, allocated: Mapping[str, int]) -> bool:
    """Spread a provider's true-up over the owners by what was allocated to them for that provider."""
    return books.split_and_book(
        difference,
        {owner: amount for owner, amount in allocated.items() if amount > 0},
        lambda owner: (owner, "", provider, "", TRUE_UP_SOURCE, "", "true_up"),
        lambda share: lambda builder: (
            f"{_percent(share)} of the {provider} invoice true-up {books.money(builder.basis_nano)}, "
            f"by share of estimated {provider} cost"
        ),
    )


def _result(
    books: _Books,
    digest: str,
    estimated_by_provider: Mapping[str, int],
    true_up_by_provider: Mapping[str, int],
) -> AllocationResult:
    """Phase 5: the lines and the Unallocated items in a total order, checked to conserve the pool."""
    lines = tuple(
        sorted(
            (
                Line(
                    owner=key[0],
                    feature=key[1],
                    provider=key[2],
                    model=key[3],
                    cost_source=key[4],
                    amount_nano=builder.amount_nano,
                    rule_id=key[5],
                    method=key[6],
                    basis_nano=builder.basis_nano,
                    share=_share(builder.share),
                    explanation=builder.explain(builder),
                    labels=tuple(sorted(label for label in builder.labels if label)),
                )
                for key, builder in books.lines.items()
            ),
            key=_line_sort_key,
        )
    )
    unallocated = _unallocated_items(books)
    estimated_total = sum(estimated_by_provider.values())
    true_up_total = sum(true_up_by_provider.values())
    result = AllocationResult(
        lines=lines,
        unallocated_nano=sum(item.amount_nano for item in unallocated),
        pool_total_nano=estimated_total + true_up_total,
        inputs_hash=digest,
        estimated_total_nano=estimated_total,
        true_up_nano=true_up_total,
        unallocated=unallocated,
    )
    # Conservation is the engine's promise; a bug must fail loudly, never publish numbers that do not foot.
    if sum(line.amount_nano for line in lines) + result.unallocated_nano != result.pool_total_nano:
        raise AssertionError("Allocation does not conserve the pool total.")
    return result


def _unallocated_items(books: _Books) -> tuple[UnallocatedItem, ...]:
    """What is left Unallocated, summed by component and reason, in a total order."""
    unallocated_amounts: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for group in books.groups:
        if group.key in books.unallocated_reason:
            unallocated_amounts[(*group.component, books.unallocated_reason[group.key])] += group.amount_nano
    for provider, difference, reason in books.unallocated_true_up:
        unallocated_amounts[("", provider, "", TRUE_UP_SOURCE, reason)] += difference
    return tuple(
        UnallocatedItem(
            feature=feature,
            provider=provider,
            model=model,
            cost_source=cost_source,
            amount_nano=amount,
            reason=reason,
        )
        for (feature, provider, model, cost_source, reason), amount in sorted(unallocated_amounts.items())
        if amount != 0
    )


def _sort_key_of_group(key: _GroupKey) -> tuple:
    return (key.provider, key.model, key.service_tier, key.cost_source, key.is_retry, key.tagset_id)


def _line_sort_key(line: Line) -> tuple:
    return (
        line.owner,
        line.provider,
        line.model,
        line.feature,
        line.cost_source,
        line.rule_id,
        line.method,
        line.amount_nano,
        line.basis_nano,
        line.share,
        line.explanation,
    )


def _what(provider: str, model: str, cost_source: str) -> str:
    return " ".join(part for part in (provider, model, cost_source.replace("_", " ")) if part)


def _direct_explanation(rule: Rule, provider: str, model: str, cost_source: str, money):
    def explain(builder: _LineBuilder) -> str:
        what = f"100% of {_what(provider, model, cost_source)} {money(builder.basis_nano)}"
        if isinstance(rule, TagMapRule):
            values = ", ".join(sorted(builder.labels))
            return f"{what}, tagged {values} (rule “{rule.name}”)"
        return f"{what}, by rule “{rule.name}”"

    return explain


_BY_METHOD = {
    "even": "split evenly among {count} owners",
    "fixed": "by fixed percentage",
    "proportional": "by share of direct spend",
    "usage": "by share of {basis}",
}


def _pool_explanation(rule: SharedPoolRule, share: Fraction, provider, model, cost_source, count, money):
    weighted = rule.method != "fixed" and any(target.weight_pct is not None for target in rule.targets)
    if weighted and rule.method == "even":
        by = f"by weighted share among {count} owners"
    else:
        by = _BY_METHOD[rule.method].format(count=count, basis=rule.usage_basis)
        if weighted:
            by += ", weighted"
    if rule.same_provider and rule.method in ("proportional", "usage"):
        by += f" on {provider}"

    def explain(builder: _LineBuilder) -> str:
        what = _what(provider, model, cost_source)
        return f"{_percent(share)} of {rule.name} {money(builder.basis_nano)} ({what}), {by}"

    return explain


def _zero_basis_reason(rule: SharedPoolRule) -> str:
    if rule.method == "usage":
        return f"rule “{rule.name}”: none of its owners has direct {rule.usage_basis} to share by"
    return f"rule “{rule.name}”: none of its owners has direct spend to share by"
