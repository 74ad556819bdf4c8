"""Counters of the schemathesis run (operations, generated cases, failing operations)."""

from collections import Counter

CASES: Counter = Counter()
OPERATIONS: set[str] = set()
FAILED: set[str] = set()


def summary() -> str:
    return (
        f"schemathesis: {len(OPERATIONS)} operations, {CASES['total']} generated cases, "
        f"{len(FAILED)} operations with failures"
    )
