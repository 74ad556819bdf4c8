"""The vocabulary of prices: usage types, cost sources, service tiers and price units.

Shared by the estimator, the models' choices, the price-book file and the forms; no imports, so any
module of the app (or above it) can read it.
"""

TOKEN_USAGE_TYPES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
# usage mapping key -> usage type
USAGE_KEYS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_tokens": "cache_read",
    "cache_write_5m_tokens": "cache_write_5m",
    "cache_write_1h_tokens": "cache_write_1h",
}
COST_SOURCES = ("input", "output", "cache_read", "cache_write", "tool_calls")
COST_SOURCE_OF = {
    "input": "input",
    "output": "output",
    "cache_read": "cache_read",
    "cache_write_5m": "cache_write",
    "cache_write_1h": "cache_write",
}
SERVICE_TIERS = ("standard", "batch", "priority", "flex")
UNIT_DIVISORS = {"token": 1, "1k_tokens": 1_000, "1m_tokens": 1_000_000, "call": 1, "1k_calls": 1_000}
TOKEN_UNITS = ("token", "1k_tokens", "1m_tokens")
CALL_UNITS = ("call", "1k_calls")
