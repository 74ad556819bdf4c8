"""The demo's year of usage (apps.usage.synthetic.generate_history): exact day counts, a realistic shape
(growth, quiet weekends, a fast-growing team, a model arriving part way), one spike, and the same bytes
every time."""

import datetime
import json
from collections import Counter

from apps.usage.synthetic import NEW_MODEL_FROM, Spike, daily_counts, generate_history

START, END = datetime.date(2025, 11, 1), datetime.date(2026, 12, 6)


def test_daily_counts_add_up_exactly_grow_and_rest_at_weekends():
    counts = daily_counts(count=180_000, start=START, end=END, monthly_growth=0.15, weekend=0.45)
    assert sum(counts.values()) == 180_000
    assert (min(counts), max(counts), len(counts)) == (START, END, 401)
    # Monday 2 and Saturday 7 November 2025: a weekend day is 0.45 of a weekday (one day's growth apart)
    monday, saturday = counts[datetime.date(2025, 11, 3)], counts[datetime.date(2025, 11, 8)]
    assert 0.43 < saturday / monday < 0.48
    months = Counter()
    for day, n in counts.items():
        months[day.replace(day=1)] += n
    # about 15% a month: thirteen months later a month has 1.15^12 = 5.35 times the requests
    assert 5.0 < months[datetime.date(2026, 11, 1)] / months[datetime.date(2025, 11, 1)] < 5.7


def _events(**kwargs) -> list[dict]:
    return list(generate_history(count=6_000, start=START, end=END, seed=7, **kwargs))


def test_history_is_deterministic_and_shaped():
    events = _events()
    assert [json.dumps(e) for e in events] == [json.dumps(e) for e in _events()]
    assert len(events) == 6_000
    assert len({e["request_id"] for e in events}) == 6_000
    models_before = {e["model"] for e in events if e["occurred_at"] < NEW_MODEL_FROM.isoformat()}
    models_after = {e["model"] for e in events if e["occurred_at"] >= "2026-06-01"}
    assert "claude-haiku-4-5" not in models_before
    assert "claude-haiku-4-5" in models_after

    def assistant_share(prefix: str) -> float:
        month = [e for e in events if e["occurred_at"].startswith(prefix)]
        return sum(1 for e in month if e["tags"].get("team") == "assistant") / len(month)

    # the assistant team's weight goes from 1 to 6 of about 18 to 23: its share more than triples
    assert assistant_share("2026-11") > 3 * assistant_share("2025-11")


def test_a_spike_adds_one_teams_requests_on_one_day_and_changes_nothing_else():
    day = datetime.date(2026, 12, 3)
    plain = _events()
    spiked = _events(spike=Spike(team="data-platform", day=day, factor=8))
    stamp = day.isoformat()
    assert [e for e in spiked if not e["occurred_at"].startswith(stamp)] == [
        e for e in plain if not e["occurred_at"].startswith(stamp)
    ]
    before = [e for e in plain if e["occurred_at"].startswith(stamp)]
    after = [e for e in spiked if e["occurred_at"].startswith(stamp)]
    assert after[: len(before)] == before
    extra = after[len(before) :]
    assert len(before) == 38
    assert extra and {e["tags"].get("team", "data-platform") for e in extra} == {"data-platform"}
    # seven more times the team's expected day: its weight is 1 of 21.4625 on 3 December 2026 (the others
    # 15.5, the assistant's 1 + 5 * 397 / 400), so 38 / 21.4625 * 7 = 12.39 -> 12 more requests
    assert len(extra) == 12
