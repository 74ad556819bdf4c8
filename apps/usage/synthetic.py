"""Deterministic, realistic usage events for the demo and the benchmark (same seed, same bytes).

Cardinality follows what the issue asks the benchmark to model: 12 teams, 41 features, 500 customers,
4 models, over several providers, with cache reads, batch jobs, retries, tool calls and a small share
of requests missing a required tag (so the tagging-gap figures are not zero).
"""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# The demo taxonomy's own feature list, so generated usage matches its value lists (apart from the
# deliberate share of requests without a team or feature tag).
from apps.taxonomy.demo import FEATURES_BY_TEAM

TEAMS = [
    "search",
    "recommendations",
    "support",
    "assistant",
    "data-platform",
    "ml-research",
    "marketing",
    "sales-eng",
    "legal-ops",
    "finance-ops",
    "platform",
    "observability",
]

# (provider, model, share of requests, typical input, typical output)
MODELS = [
    ("anthropic", "claude-sonnet-4-5-20250929", 0.40, 2400, 450),
    ("openai", "gpt-4o-2024-08-06", 0.30, 1800, 380),
    ("openai", "gpt-4o-mini", 0.20, 900, 250),
    ("google", "gemini-2.5-flash", 0.10, 1500, 300),
]
ENVIRONMENTS = [("production", 0.8), ("prod", 0.05), ("staging", 0.1), ("development", 0.05)]


def features() -> list[str]:
    return [f for fs in FEATURES_BY_TEAM.values() for f in fs]


def generate_events(
    *,
    count: int,
    start: date,
    days: int,
    workspace_prefix: str = "acme",
    customers: int = 500,
    seed: int = 20261001,
    missing_tag_share: float = 0.02,
    provider_names: dict[str, str] | None = None,
) -> Iterator[dict]:
    """``provider_names`` renames a provider of ``MODELS`` (globex buys OpenAI models through Azure:
    ``{"openai": "azure-openai"}``); without it the output is unchanged. Providers whose batch prices the
    book does not list (google, azure-openai) get no batch requests."""
    rng = random.Random(seed)
    provider_names = provider_names or {}
    start_at = datetime(start.year, start.month, start.day, tzinfo=UTC)
    span_seconds = days * 86400
    for index in range(count):
        yield _event(
            rng,
            request_id=f"req_{seed}_{index:09d}",
            trace_id=f"tr_{index // 4:08d}",
            at=start_at + timedelta(seconds=int(span_seconds * index / count)),
            models=MODELS,
            model_weights=[m[2] for m in MODELS],
            team_weights=TEAM_WEIGHTS,
            workspace_prefix=workspace_prefix,
            customers=customers,
            missing_tag_share=missing_tag_share,
            provider_names=provider_names,
        )


# A model the history adopts part way through: (provider, model, share it grows to, typical input, typical
# output), from when, and over how many days its share ramps up (it takes its share from gpt-4o-mini).
NEW_MODEL = ("anthropic", "claude-haiku-4-5", 0.15, 1600, 300)
NEW_MODEL_FROM = date(2026, 3, 2)
NEW_MODEL_RAMP_DAYS = 60
# The team whose usage grows fastest: its weight goes from 1 to 6 over the history.
FAST_TEAM = "assistant"


@dataclass(frozen=True)
class Spike:
    """One team's day at ``factor`` times its usual volume (a batch job left running, say)."""

    team: str
    day: date
    factor: float


def daily_counts(*, count: int, start: date, end: date, monthly_growth: float, weekend: float) -> dict[date, int]:
    """``count`` requests over ``start``..``end`` (inclusive): growing ``monthly_growth`` a month (compounded
    daily), a weekend day at ``weekend`` times a weekday. Exact: the shares are floored and the remainder goes
    to the days with the largest fractions (earliest first on a tie), so the counts add up to ``count``."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    weights = [
        (1 + monthly_growth) ** (n / 30.4375) * (weekend if day.weekday() >= 5 else 1.0) for n, day in enumerate(days)
    ]
    total = sum(weights)
    shares = [count * w / total for w in weights]
    counts = [int(share) for share in shares]
    by_fraction = sorted(range(len(days)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in by_fraction[: count - sum(counts)]:
        counts[i] += 1
    return dict(zip(days, counts, strict=True))


def generate_history(
    *,
    count: int,
    start: date,
    end: date,
    workspace_prefix: str = "acme",
    customers: int = 500,
    seed: int = 20251101,
    missing_tag_share: float = 0.02,
    provider_names: dict[str, str] | None = None,
    monthly_growth: float = 0.15,
    weekend: float = 0.45,
    spike: Spike | None = None,
) -> Iterator[dict]:
    """A year of requests shaped like a real one: the volume grows ``monthly_growth`` a month with quieter
    weekends, ``FAST_TEAM`` grows faster than the rest, ``NEW_MODEL`` appears on ``NEW_MODEL_FROM`` and
    ramps up, and ``spike`` (if given) multiplies one team's volume on one day. Each day draws from its own
    seeded generator, so a day's requests do not depend on the days before it; same arguments, same bytes."""
    provider_names = provider_names or {}
    fast = TEAMS.index(FAST_TEAM)
    span = max(1, (end - start).days)
    for day, n in daily_counts(
        count=count, start=start, end=end, monthly_growth=monthly_growth, weekend=weekend
    ).items():
        rng = random.Random(f"{seed}:{day.isoformat()}")
        team_weights = list(TEAM_WEIGHTS)
        team_weights[fast] = 1 + 5 * (day - start).days / span
        models, model_weights = list(MODELS), [m[2] for m in MODELS]
        if day >= NEW_MODEL_FROM:
            share = NEW_MODEL[2] * min(1.0, ((day - NEW_MODEL_FROM).days + 1) / NEW_MODEL_RAMP_DAYS)
            models.append(NEW_MODEL)
            model_weights.append(share)
            model_weights[2] -= share  # gpt-4o-mini's share moves to the new model
        extra, spike_weights = 0, team_weights
        if spike is not None and spike.day == day:
            usual = n * team_weights[TEAMS.index(spike.team)] / sum(team_weights)
            extra = round(usual * (spike.factor - 1))
            spike_weights = [w if t == spike.team else 0 for t, w in zip(TEAMS, team_weights, strict=True)]
        day_at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        stamp = f"{day:%Y%m%d}"
        for index in range(n + extra):
            weights = team_weights if index < n else spike_weights
            yield _event(
                rng,
                request_id=f"req_{seed}_{stamp}_{index:06d}",
                trace_id=f"tr_{stamp}_{index // 4:06d}",
                at=day_at + timedelta(seconds=int(86340 * (index if index < n else index - n) / max(n, extra, 1))),
                models=models,
                model_weights=model_weights,
                team_weights=weights,
                workspace_prefix=workspace_prefix,
                customers=customers,
                missing_tag_share=missing_tag_share,
                provider_names=provider_names,
            )


TEAM_WEIGHTS = [3, 2, 3, 3, 1, 1, 1, 1, 0.5, 0.5, 2, 0.5]
ENV_NAMES = [e[0] for e in ENVIRONMENTS]
ENV_WEIGHTS = [e[1] for e in ENVIRONMENTS]


def _event(
    rng: random.Random,
    *,
    request_id: str,
    trace_id: str,
    at: datetime,
    models: list,
    model_weights: list[float],
    team_weights: list[float],
    workspace_prefix: str,
    customers: int,
    missing_tag_share: float,
    provider_names: dict[str, str],
) -> dict:
    """One request; every random draw comes from ``rng``, in a fixed order, so a seed gives the same bytes."""
    provider, model, _share, typical_in, typical_out = rng.choices(models, weights=model_weights)[0]
    provider = provider_names.get(provider, provider)
    team = rng.choices(TEAMS, weights=team_weights)[0]
    feature = rng.choice(FEATURES_BY_TEAM[team])
    environment = rng.choices(ENV_NAMES, weights=ENV_WEIGHTS)[0]
    tier = "batch" if rng.random() < 0.07 and provider not in ("google", "azure-openai") else "standard"
    # Batch jobs in the demo carry no prompt caching or tools: their list prices are not published.
    cached = provider in ("anthropic", "openai", "azure-openai") and tier == "standard" and rng.random() < 0.45
    input_tokens = max(1, int(rng.lognormvariate(0, 0.6) * typical_in))
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": max(1, int(rng.lognormvariate(0, 0.7) * typical_out)),
        "cache_read_tokens": int(input_tokens * rng.uniform(1.5, 6)) if cached else 0,
        "cache_write_5m_tokens": int(input_tokens * 0.5)
        if cached and provider == "anthropic" and rng.random() < 0.1
        else 0,
        "cache_write_1h_tokens": 0,
    }
    tags = {
        "team": team,
        "feature": feature,
        "workspace": f"{workspace_prefix}-{environment[:4]}",
        "environment": environment,
        "customer": f"cust_{rng.randrange(customers):03d}",
    }
    if rng.random() < missing_tag_share:
        del tags[rng.choice(["team", "feature"])]
    occurred = at + timedelta(seconds=rng.randrange(60))
    return {
        "request_id": request_id,
        "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provider": provider,
        "model": model,
        "service_tier": tier,
        "tags": tags,
        "usage": usage,
        "tool_calls": {"web_search": 1}
        if provider == "anthropic" and tier == "standard" and rng.random() < 0.04
        else {},
        "is_retry": rng.random() < 0.015,
        "trace_id": trace_id,
        "cost": None,
    }


def write_ndjson(path, events) -> int:
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
            written += 1
    return written
