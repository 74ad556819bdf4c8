"""The allocation engine, with no database: worked examples for every rule kind and property tests for
conservation, non-negativity, order invariance, idempotency and exact largest-remainder splits."""

import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.allocation.runs.engine import (
    Cell,
    Condition,
    DirectRule,
    SharedPoolRule,
    TagMapRule,
    Target,
    TrueUpPolicy,
    allocate,
    split_largest_remainder,
)

OWNERS = ("CC-1001", "CC-1002", "CC-1003", "CC-9000")
NO_TRUE_UP = TrueUpPolicy(mode="none")
USD = 10**9  # one dollar in nano-units


def cell(tagset_id, tags, amount, *, provider="openai", model="gpt-4o", cost_source="input", requests=0, tokens=0):
    return Cell(
        tagset_id=tagset_id,
        tags=tags,
        provider=provider,
        model=model,
        service_tier="default",
        is_retry=False,
        cost_source=cost_source,
        amount_nano=amount,
        requests=requests,
        tokens=tokens,
    )


def run(cells, rules, *, invoices=None, true_up=NO_TRUE_UP):
    return allocate(
        cells=cells,
        invoice_totals_nano=invoices or {},
        rules=rules,
        true_up=true_up,
        owner_codes=OWNERS,
        currency_symbol="$",
    )


def totals(result, *, method=None):
    by_owner = {}
    for line in result.lines:
        if method is None or line.method == method:
            by_owner[line.owner] = by_owner.get(line.owner, 0) + line.amount_nano
    return by_owner


TEAMS = TagMapRule(
    rule_id="teams", name="Teams", position=10, dimension="team", mapping={"search": "CC-1001", "ads": "CC-1002"}
)
GATEWAY = (Condition(field="tag:feature", op="equals", value="gateway"),)


def gateway_pool(method, targets, **extra):
    return SharedPoolRule(
        rule_id="gateway",
        name="platform gateway",
        position=20,
        conditions=GATEWAY,
        source="conditions",
        targets=targets,
        method=method,
        **extra,
    )


# --- largest remainder ------------------------------------------------------------------------------------


def test_largest_remainder_breaks_ties_by_owner_code():
    assert split_largest_remainder(10, {"CC-3": 1, "CC-1": 1, "CC-2": 1}) == {"CC-1": 4, "CC-2": 3, "CC-3": 3}
    assert split_largest_remainder(11, {"CC-3": 1, "CC-1": 1, "CC-2": 1}) == {"CC-1": 4, "CC-2": 4, "CC-3": 3}


def test_largest_remainder_gives_leftovers_to_the_largest_fractions_first():
    # Exact shares 333.3, 333.3, 333.4: the one unit left goes to the .4, not to the lowest code.
    parts = split_largest_remainder(1000, {"A": Decimal("33.33"), "B": Decimal("33.33"), "C": Decimal("33.34")})
    assert parts == {"A": 333, "B": 333, "C": 334}


def test_largest_remainder_never_gives_a_unit_to_a_zero_weight():
    assert split_largest_remainder(7, {"A": 0, "B": 1, "C": 1}) == {"A": 0, "B": 4, "C": 3}


def test_largest_remainder_splits_a_negative_amount_as_its_mirror():
    assert split_largest_remainder(-10, {"A": 1, "B": 1, "C": 1}) == {"A": -4, "B": -3, "C": -3}


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    weights=st.dictionaries(
        st.sampled_from(["A", "B", "C", "D", "E"]), st.integers(min_value=0, max_value=10**6), min_size=1
    ).filter(lambda weights: sum(weights.values()) > 0),
)
def test_largest_remainder_is_exact_and_within_one_unit_of_the_exact_share(amount, weights):
    parts = split_largest_remainder(amount, weights)
    assert sum(parts.values()) == amount
    total = sum(weights.values())
    for owner, weight in weights.items():
        exact = Fraction(amount * weight, total)
        assert exact - 1 < parts[owner] < exact + 1
        assert parts[owner] >= 0


# --- worked examples, one per rule kind -------------------------------------------------------------------


def test_direct_rule_books_every_matching_cell_to_its_owner():
    rule = DirectRule(
        rule_id="r1",
        name="Batch embeddings",
        position=1,
        conditions=(
            Condition(field="model", op="glob", value="text-embedding-*"),
            Condition(field="tag:team", op="missing"),
            Condition(field="provider", op="in", value=("openai", "azure")),
        ),
        owner="CC-1003",
    )
    cells = [
        cell(1, {}, 5 * USD, model="text-embedding-3-small"),
        cell(2, {"team": "search"}, 7 * USD, model="text-embedding-3-small"),
        cell(1, {}, 2 * USD, model="gpt-4o"),
    ]
    result = run(cells, [rule])
    assert [(line.owner, line.model, line.amount_nano, line.method) for line in result.lines] == [
        ("CC-1003", "text-embedding-3-small", 5 * USD, "direct")
    ]
    assert result.lines[0].share == Decimal("1.000000000000")
    assert (
        result.lines[0].explanation == "100% of openai text-embedding-3-small input $5.00, by rule “Batch embeddings”"
    )
    assert result.unallocated_nano == 9 * USD
    assert {item.reason for item in result.unallocated} == {"no rule claims it"}


def test_tag_map_books_by_tag_value_and_leaves_unmapped_values_for_later_rules():
    catch_all = DirectRule(rule_id="rest", name="Everything else", position=99, conditions=(), owner="CC-9000")
    cells = [
        cell(1, {"team": "search", "feature": "chat"}, 3 * USD),
        cell(1, {"team": "search", "feature": "chat"}, 1 * USD),  # same group: summed, one line
        cell(2, {"team": "ads", "feature": "chat"}, 2 * USD),
        cell(3, {"team": "legal", "feature": "chat"}, 4 * USD),
    ]
    result = run(cells, [catch_all, TEAMS])
    assert totals(result) == {"CC-1001": 4 * USD, "CC-1002": 2 * USD, "CC-9000": 4 * USD}
    search = next(line for line in result.lines if line.owner == "CC-1001")
    assert (search.method, search.rule_id, search.feature) == ("tag_map", "teams", "chat")
    assert search.explanation == "100% of openai gpt-4o input $4.00, tagged team=search (rule “Teams”)"
    assert result.unallocated_nano == 0


def test_earlier_rules_drain_a_pools_source_first():
    gateway_owner = DirectRule(
        rule_id="own",
        name="Gateway on anthropic",
        position=5,
        conditions=(*GATEWAY, Condition(field="provider", op="equals", value="anthropic")),
        owner="CC-1003",
    )
    cells = [
        cell(1, {"team": "search"}, 1 * USD),
        cell(2, {"feature": "gateway"}, 6 * USD),
        cell(2, {"feature": "gateway"}, 4 * USD, provider="anthropic", model="claude"),
    ]
    pool = gateway_pool("even", (Target("CC-1001"), Target("CC-1002")))
    result = run(cells, [pool, TEAMS, gateway_owner])
    assert totals(result) == {"CC-1001": 4 * USD, "CC-1002": 3 * USD, "CC-1003": 4 * USD}


def test_even_pool_splits_with_largest_remainder_and_ties_to_the_lowest_code():
    cells = [cell(1, {"feature": "gateway"}, 10)]
    pool = gateway_pool("even", (Target("CC-1003"), Target("CC-1001"), Target("CC-1002")))
    result = run(cells, [pool])
    assert totals(result) == {"CC-1001": 4, "CC-1002": 3, "CC-1003": 3}
    assert {line.share for line in result.lines} == {Decimal("0.333333333333")}
    assert {line.basis_nano for line in result.lines} == {10}


def test_fixed_pool_splits_by_percentages():
    cells = [cell(1, {"feature": "gateway"}, 1000)]
    targets = (
        Target("CC-1001", Decimal("33.33")),
        Target("CC-1002", Decimal("33.33")),
        Target("CC-1003", Decimal("33.34")),
    )
    result = run(cells, [gateway_pool("fixed", targets)])
    assert totals(result) == {"CC-1001": 333, "CC-1002": 333, "CC-1003": 334}
    assert next(line for line in result.lines if line.owner == "CC-1003").share == Decimal("0.333400000000")


def test_fixed_pool_must_add_up_to_one_hundred():
    targets = (Target("CC-1001", Decimal("60")), Target("CC-1002", Decimal("30")))
    with pytest.raises(ValueError, match="must add up to 100"):
        run([], [gateway_pool("fixed", targets)])


def test_unknown_owner_is_refused():
    with pytest.raises(ValueError, match="not a known owner"):
        run([], [DirectRule(rule_id="x", name="X", position=1, conditions=(), owner="CC-404")])


def test_proportional_pool_follows_direct_spend_and_explains_itself():
    cells = [
        cell(1, {"team": "search"}, 3000 * USD),
        cell(2, {"team": "ads"}, 1000 * USD),
        cell(3, {"feature": "gateway"}, 4000 * USD, cost_source="output"),
    ]
    pool = gateway_pool("proportional", (Target("CC-1001"), Target("CC-1002"), Target("CC-1003")))
    result = run(cells, [TEAMS, pool])
    assert totals(result, method="proportional") == {"CC-1001": 3000 * USD, "CC-1002": 1000 * USD}
    ads = next(line for line in result.lines if line.owner == "CC-1002" and line.method == "proportional")
    assert ads.share == Decimal("0.250000000000")
    assert ads.basis_nano == 4000 * USD
    assert ads.explanation == "25% of platform gateway $4,000.00 (openai gpt-4o output), by share of direct spend"
    # CC-1003 has no direct spend: it gets nothing, not even a zero line.
    assert all(line.owner != "CC-1003" for line in result.lines)


def test_proportional_pool_same_provider_uses_that_providers_direct_spend():
    cells = [
        cell(1, {"team": "search"}, 900, provider="openai"),
        cell(2, {"team": "ads"}, 100, provider="openai"),
        cell(2, {"team": "ads"}, 500, provider="anthropic", model="claude"),
        cell(3, {"feature": "gateway"}, 100, provider="openai"),
        cell(3, {"feature": "gateway"}, 100, provider="anthropic", model="claude"),
    ]
    pool = gateway_pool("proportional", (Target("CC-1001"), Target("CC-1002")), same_provider=True)
    result = run(cells, [TEAMS, pool])
    pool_lines = {(line.owner, line.provider): line.amount_nano for line in result.lines if line.rule_id == "gateway"}
    assert pool_lines == {("CC-1001", "openai"): 90, ("CC-1002", "openai"): 10, ("CC-1002", "anthropic"): 100}


def test_proportional_pool_with_no_basis_stays_unallocated_and_says_why():
    cells = [cell(3, {"feature": "gateway"}, 4000 * USD)]
    pool = gateway_pool("proportional", (Target("CC-1001"), Target("CC-1002")))
    result = run(cells, [TEAMS, pool])
    assert result.lines == ()
    assert result.unallocated_nano == 4000 * USD
    assert [item.reason for item in result.unallocated] == [
        "rule “platform gateway”: none of its owners has direct spend to share by"
    ]


def test_proportional_pool_with_weights_shares_to_a_weighted_subset():
    cells = [
        cell(1, {"team": "search"}, 100),
        cell(2, {"team": "ads"}, 100),
        cell(3, {"feature": "gateway"}, 90),
    ]
    pool = gateway_pool("proportional", (Target("CC-1001", Decimal("2")), Target("CC-1002", Decimal("1"))))
    result = run(cells, [TEAMS, pool])
    assert totals(result, method="proportional") == {"CC-1001": 60, "CC-1002": 30}


def test_usage_pool_splits_by_requests_or_tokens():
    cells = [
        cell(1, {"team": "search"}, 5, requests=1, tokens=300),
        cell(2, {"team": "ads"}, 5, requests=3, tokens=100),
        cell(3, {"feature": "gateway"}, 400),
    ]
    by_requests = run(cells, [TEAMS, gateway_pool("usage", (Target("CC-1001"), Target("CC-1002")))])
    assert totals(by_requests, method="usage") == {"CC-1001": 100, "CC-1002": 300}
    by_tokens = run(cells, [TEAMS, gateway_pool("usage", (Target("CC-1001"), Target("CC-1002")), usage_basis="tokens")])
    assert totals(by_tokens, method="usage") == {"CC-1001": 300, "CC-1002": 100}
    assert next(line for line in by_tokens.lines if line.method == "usage").explanation.endswith("by share of tokens")


def test_pool_over_the_unallocated_remainder_takes_what_nothing_else_claimed():
    remainder = SharedPoolRule(
        rule_id="rest",
        name="unallocated remainder",
        position=1,  # runs last whatever its position: it shares what the other rules leave
        conditions=(),
        source="unallocated",
        targets=(Target("CC-1001"), Target("CC-1002")),
        method="proportional",
    )
    cells = [
        cell(1, {"team": "search"}, 300),
        cell(2, {"team": "ads"}, 100),
        cell(3, {"team": "legal"}, 80),
        cell(4, {"feature": "gateway"}, 40),  # the gateway pool cannot split it: no basis for CC-1003
    ]
    gateway = gateway_pool("proportional", (Target("CC-1003"),))
    result = run(cells, [remainder, TEAMS, gateway])
    assert totals(result, method="proportional") == {"CC-1001": 90, "CC-1002": 30}
    assert totals(result) == {"CC-1001": 390, "CC-1002": 130}
    assert result.unallocated_nano == 0


def test_full_cost_true_up_ties_every_providers_charges_to_its_invoice():
    cells = [
        cell(1, {"team": "search"}, 700, provider="openai"),
        cell(2, {"team": "ads"}, 300, provider="openai"),
        cell(2, {"team": "ads"}, 500, provider="anthropic", model="claude"),
        cell(5, {"team": "legal"}, 50, provider="anthropic", model="claude"),
    ]
    invoices = {"openai": 1011, "anthropic": 540}
    result = run(cells, [TEAMS], invoices=invoices, true_up=TrueUpPolicy(mode="full_cost"))
    true_up = {(line.owner, line.provider): line.amount_nano for line in result.lines if line.method == "true_up"}
    # openai +11 over 700/300 -> 7.7/3.3 -> 8/3; anthropic -10 lands on CC-1002 alone (legal is unallocated).
    assert true_up == {("CC-1001", "openai"): 8, ("CC-1002", "openai"): 3, ("CC-1002", "anthropic"): -10}
    for provider, invoice in invoices.items():
        charged = sum(line.amount_nano for line in result.lines if line.provider == provider)
        unallocated = sum(item.amount_nano for item in result.unallocated if item.provider == provider)
        assert charged + unallocated == invoice
    assert result.pool_total_nano == 1551
    assert result.true_up_nano == 1
    line = next(line for line in result.lines if line.owner == "CC-1001" and line.method == "true_up")
    assert line.explanation == "70% of the openai invoice true-up $0.00, by share of estimated openai cost"


def test_usage_only_true_up_goes_to_the_central_owner():
    cells = [cell(1, {"team": "search"}, 700), cell(2, {"team": "ads"}, 300)]
    policy = TrueUpPolicy(mode="usage_only", central_owner="CC-9000")
    result = run(cells, [TEAMS], invoices={"openai": 1250}, true_up=policy)
    assert totals(result) == {"CC-1001": 700, "CC-1002": 300, "CC-9000": 250}
    central = next(line for line in result.lines if line.owner == "CC-9000")
    assert (central.method, central.cost_source, central.basis_nano) == ("true_up", "true_up", 250)
    assert result.pool_total_nano == 1250


def test_without_a_true_up_policy_the_difference_stays_unallocated():
    result = run([cell(1, {"team": "search"}, 700)], [TEAMS], invoices={"openai": 800})
    assert result.unallocated_nano == 100
    assert result.unallocated[0].cost_source == "true_up"


def test_a_true_up_pool_shares_the_difference_before_the_policy():
    cells = [cell(1, {"team": "search"}, 100), cell(2, {"team": "ads"}, 100)]
    pool = SharedPoolRule(
        rule_id="tu",
        name="invoice true-up",
        position=50,
        conditions=(Condition(field="provider", op="equals", value="openai"),),
        source="true_up",
        targets=(Target("CC-1001"), Target("CC-1002")),
        method="even",
    )
    policy = TrueUpPolicy(mode="usage_only", central_owner="CC-9000")
    result = run(cells, [TEAMS, pool], invoices={"openai": 230}, true_up=policy)
    assert totals(result) == {"CC-1001": 115, "CC-1002": 115}


# --- properties -------------------------------------------------------------------------------------------

TAGSETS = {
    1: {"team": "search", "feature": "chat"},
    2: {"team": "ads", "feature": "chat"},
    3: {"team": "ads", "feature": "gateway"},
    4: {"feature": "gateway"},
    5: {"team": "legal"},
    6: {},
}

cells_strategy = st.lists(
    st.builds(
        lambda tagset_id, provider, source, retry, amount, requests, tokens: Cell(
            tagset_id=tagset_id,
            tags=TAGSETS[tagset_id],
            provider=provider,
            model=f"{provider}-model",
            service_tier="default",
            is_retry=retry,
            cost_source=source,
            amount_nano=amount,
            requests=requests,
            tokens=tokens,
        ),
        st.sampled_from(sorted(TAGSETS)),
        st.sampled_from(["openai", "anthropic"]),
        st.sampled_from(["input", "output", "cache_read"]),
        st.booleans(),
        st.integers(min_value=0, max_value=10**12),
        st.integers(min_value=0, max_value=1000),
        st.integers(min_value=0, max_value=10**6),
    ),
    max_size=25,
)

pool_strategy = st.builds(
    lambda method, source, rule_id, same_provider, basis: SharedPoolRule(
        rule_id=rule_id,
        name=f"pool {rule_id}",
        position=30 if source == "conditions" else 5,
        conditions=GATEWAY if source == "conditions" else (),
        source=source,
        targets=(
            (Target("CC-1001", Decimal("12.5")), Target("CC-1003", Decimal("87.5")))
            if method == "fixed"
            else (Target("CC-1001"), Target("CC-1002"), Target("CC-1003"))
        ),
        method=method,
        usage_basis=basis,
        same_provider=same_provider,
    ),
    st.sampled_from(["even", "fixed", "proportional", "usage"]),
    st.sampled_from(["conditions", "unallocated", "true_up"]),
    st.sampled_from(["p1", "p2", "p3"]),
    st.booleans(),
    st.sampled_from(["requests", "tokens"]),
)

rules_strategy = st.tuples(
    st.booleans(),
    st.lists(pool_strategy, max_size=3, unique_by=lambda rule: rule.rule_id),
).map(
    lambda drawn: (
        [TEAMS, DirectRule(rule_id="legal", name="Legal", position=3, conditions=(), owner="CC-1003")]
        if drawn[0]
        else [TEAMS]
    )
    + drawn[1]
)

invoices_strategy = st.dictionaries(
    st.sampled_from(["openai", "anthropic", "mistral"]), st.integers(min_value=0, max_value=10**13)
)

policy_strategy = st.sampled_from(
    [TrueUpPolicy(mode="full_cost"), TrueUpPolicy(mode="usage_only", central_owner="CC-9000"), NO_TRUE_UP]
)


def allocate_all(cells, rules, invoices, policy):
    return allocate(
        cells=cells, invoice_totals_nano=invoices, rules=rules, true_up=policy, owner_codes=OWNERS, currency_exponent=2
    )


@settings(max_examples=150, deadline=None)
@given(cells=cells_strategy, rules=rules_strategy, invoices=invoices_strategy, policy=policy_strategy)
def test_conservation_is_exact(cells, rules, invoices, policy):
    result = allocate_all(cells, rules, invoices, policy)
    estimated = sum(cell.amount_nano for cell in cells)
    by_provider = {}
    for one in cells:
        by_provider[one.provider] = by_provider.get(one.provider, 0) + one.amount_nano
    expected_pool = estimated + sum(total - by_provider.get(provider, 0) for provider, total in invoices.items())
    assert result.pool_total_nano == expected_pool
    assert sum(line.amount_nano for line in result.lines) + result.unallocated_nano == expected_pool
    assert sum(item.amount_nano for item in result.unallocated) == result.unallocated_nano
    assert all(line.owner for line in result.lines)


@settings(max_examples=150, deadline=None)
@given(cells=cells_strategy, rules=rules_strategy)
def test_non_negative_inputs_give_non_negative_lines(cells, rules):
    result = allocate_all(cells, rules, {}, NO_TRUE_UP)
    assert all(line.amount_nano >= 0 for line in result.lines)
    assert result.unallocated_nano >= 0
    assert all(Decimal(0) <= line.share <= Decimal(1) for line in result.lines)


@settings(max_examples=100, deadline=None)
@given(
    cells=cells_strategy,
    rules=rules_strategy,
    invoices=invoices_strategy,
    policy=policy_strategy,
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_input_order_does_not_change_the_result(cells, rules, invoices, policy, seed):
    shuffler = random.Random(seed)
    shuffled_cells, shuffled_rules = list(cells), list(rules)
    shuffler.shuffle(shuffled_cells)
    shuffler.shuffle(shuffled_rules)
    shuffled_invoices = dict(shuffler.sample(sorted(invoices.items()), len(invoices)))
    owner_codes = list(OWNERS)
    shuffler.shuffle(owner_codes)
    first = allocate_all(cells, rules, invoices, policy)
    second = allocate(
        cells=shuffled_cells,
        invoice_totals_nano=shuffled_invoices,
        rules=shuffled_rules,
        true_up=policy,
        owner_codes=owner_codes,
    )
    assert second == first
    assert repr(second) == repr(first)


@settings(max_examples=50, deadline=None)
@given(cells=cells_strategy, rules=rules_strategy, invoices=invoices_strategy, policy=policy_strategy)
def test_running_twice_gives_the_same_result_and_hash(cells, rules, invoices, policy):
    first = allocate_all(cells, rules, invoices, policy)
    second = allocate_all(cells, rules, invoices, policy)
    assert repr(first) == repr(second)
    assert len(first.inputs_hash) == 64


def test_the_hash_changes_when_an_input_changes():
    cells = [cell(1, {"team": "search"}, 700)]
    base = run(cells, [TEAMS]).inputs_hash
    assert run([cell(1, {"team": "search"}, 701)], [TEAMS]).inputs_hash != base
    assert run(cells, [TEAMS], invoices={"openai": 700}).inputs_hash != base
    moved = TagMapRule(rule_id="teams", name="Teams", position=11, dimension="team", mapping=dict(TEAMS.mapping))
    assert run(cells, [moved]).inputs_hash != base


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=10**13),
    direct=st.lists(st.integers(min_value=0, max_value=10**9), min_size=3, max_size=3),
    method=st.sampled_from(["even", "fixed", "proportional", "usage"]),
    basis_points=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)).filter(lambda pair: sum(pair) <= 10_000),
)
def test_pool_splits_are_largest_remainder_of_the_exact_shares(amount, direct, method, basis_points):
    cells = [
        cell(10 + index, {"team": team}, spend, requests=spend % 97)
        for index, (team, spend) in enumerate(zip(["search", "ads", "legal"], direct, strict=True))
    ]
    cells.append(cell(4, {"feature": "gateway"}, amount))
    percentages = dict(
        zip(
            ["CC-1001", "CC-1002", "CC-1003"],
            [Decimal(basis_points[0]) / 100, Decimal(basis_points[1]) / 100, Decimal(10_000 - sum(basis_points)) / 100],
            strict=True,
        )
    )
    if method == "fixed":
        targets = tuple(Target(owner, percentage) for owner, percentage in percentages.items())
    else:
        targets = (Target("CC-1001"), Target("CC-1002"), Target("CC-1003"))
    rules = [
        TagMapRule(
            rule_id="teams",
            name="Teams",
            position=1,
            dimension="team",
            mapping={"search": "CC-1001", "ads": "CC-1002", "legal": "CC-1003"},
        ),
        gateway_pool(method, targets),
    ]
    result = run(cells, rules)
    if method == "even":
        weights = {"CC-1001": 1, "CC-1002": 1, "CC-1003": 1}
    elif method == "fixed":
        weights = percentages
    elif method == "proportional":
        weights = dict(zip(["CC-1001", "CC-1002", "CC-1003"], direct, strict=True))
    else:
        weights = dict(zip(["CC-1001", "CC-1002", "CC-1003"], [spend % 97 for spend in direct], strict=True))
    shared = totals(result, method=method)
    if sum(weights.values()) == 0:
        assert shared == {}
        assert result.unallocated_nano == amount
        return
    expected = {owner: part for owner, part in split_largest_remainder(amount, weights).items() if weights[owner]}
    assert shared == {owner: part for owner, part in expected.items() if part or weights[owner]}
    assert result.unallocated_nano == 0


def test_retry_conditions_accept_text_or_bool():
    retries = [
        Cell(
            tagset_id=1,
            tags={},
            provider="openai",
            model="gpt-4o",
            service_tier="default",
            is_retry=retry,
            cost_source="input",
            amount_nano=amount,
            requests=1,
            tokens=1,
        )
        for retry, amount in ((True, 30), (False, 70))
    ]
    for value in (True, "true"):
        rule = DirectRule(
            rule_id="retries",
            name="Retries",
            position=1,
            conditions=(Condition(field="is_retry", op="equals", value=value),),
            owner="CC-9000",
        )
        result = run(retries, [rule])
        assert totals(result) == {"CC-9000": 30}
        assert result.unallocated_nano == 70


def test_a_weighted_even_pool_says_it_is_weighted():
    cells = [cell(4, {"feature": "gateway"}, 100)]
    pool = gateway_pool("even", (Target("CC-1001", Decimal("3")), Target("CC-1002", Decimal("1"))))
    result = run(cells, [pool])
    assert totals(result) == {"CC-1001": 75, "CC-1002": 25}
    assert result.lines[0].explanation == (
        "75% of platform gateway $0.00 (openai gpt-4o input), by weighted share among 2 owners"
    )


def test_the_engine_runs_without_django():
    code = "import sys, apps.allocation.runs.engine; sys.exit(any(name.startswith('django') for name in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
