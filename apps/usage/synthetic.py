"""Deterministic, realistic usage events for the demo and the benchmark (same seed, same bytes).

Cardinality follows what the issue asks the benchmark to model: 12 teams, 41 features, 500 customers,
4 models, over several providers, with cache reads, batch jobs, retries, tool calls and a small share
of requests missing a required tag (so the tagging-gap figures are not zero).
"""

import json
import random
from collections.abc import Iterator
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
    model_weights = [m[2] for m in MODELS]
    env_names = [e[0] for e in ENVIRONMENTS]
    env_weights = [e[1] for e in ENVIRONMENTS]
    team_weights = [3, 2, 3, 3, 1, 1, 1, 1, 0.5, 0.5, 2, 0.5]
    start_at = datetime(start.year, start.month, start.day, tzinfo=UTC)
    span_seconds = days * 86400
    for index in range(count):
        provider, model, _share, typical_in, typical_out = rng.choices(MODELS, weights=model_weights)[0]
        provider = provider_names.get(provider, provider)
        team = rng.choices(TEAMS, weights=team_weights)[0]
        feature = rng.choice(FEATURES_BY_TEAM[team])
        environment = rng.choices(env_names, weights=env_weights)[0]
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
        occurred = start_at + timedelta(seconds=int(span_seconds * index / count) + rng.randrange(60))
        event = {
            "request_id": f"req_{seed}_{index:09d}",
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
            "trace_id": f"tr_{index // 4:08d}",
            "cost": None,
        }
        yield event


def write_ndjson(path, events) -> int:
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
            written += 1
    return written
