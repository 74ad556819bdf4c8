"""The vocabulary of prices: usage types, cost sources, service tiers and price units.

Shared by the estimator, the models' choices, the price-book file and the forms, and (cost sources) by usage, invoices,
reconciliation, allocation and statements; no imports, so any module of the app (or above it, the pure
engines included) can read it.
"""

# Text tokens, then the audio and image tokens that providers price apart from text (OpenAI's
# input_audio/output_audio/input_image/output_image, Gemini's audio input and audio cache reads). A
# modality usage type is priced only by a row for it: never at the text rate, never dropped.
TEXT_USAGE_TYPES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
AUDIO_USAGE_TYPES = ("input_audio", "output_audio", "cache_read_audio")
IMAGE_USAGE_TYPES = ("input_image", "output_image")
TOKEN_USAGE_TYPES = (*TEXT_USAGE_TYPES, *AUDIO_USAGE_TYPES, *IMAGE_USAGE_TYPES)
# What makes up a request's prompt, for the long-context threshold.
PROMPT_USAGE_TYPES = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "input_audio",
    "cache_read_audio",
    "input_image",
)
# usage mapping key -> usage type
USAGE_KEYS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_tokens": "cache_read",
    "cache_write_5m_tokens": "cache_write_5m",
    "cache_write_1h_tokens": "cache_write_1h",
    "input_audio_tokens": "input_audio",
    "output_audio_tokens": "output_audio",
    "cache_read_audio_tokens": "cache_read_audio",
    "input_image_tokens": "input_image",
    "output_image_tokens": "output_image",
}
# The one vocabulary of cost sources: which part of an AI request a cost is for. The price book prices each
# source, usage keeps a cost column per source (apps.usage.models.COST_COLUMNS), a bill's line names its
# source (or "other": fees, storage, tax, credits), and reconciliation, allocation and statements compare
# and split costs by it.
OTHER_SOURCE = "other"
# source -> how it is shown (the invoice line's choices)
COST_SOURCE_LABELS = {
    "input": "Input tokens",
    "output": "Output tokens",
    "cache_read": "Cache reads",
    "cache_write": "Cache writes",
    "tool_calls": "Tool calls",
    "audio": "Audio tokens",
    "image": "Image tokens",
    OTHER_SOURCE: "Other",
}
# What a bill's line may be for.
BILL_COST_SOURCES = tuple(COST_SOURCE_LABELS)
# What a price book prices and usage measures: every source but "other", which only a bill's line has.
COST_SOURCES = tuple(source for source in BILL_COST_SOURCES if source != OTHER_SOURCE)
COST_SOURCE_OF = {
    "input": "input",
    "output": "output",
    "cache_read": "cache_read",
    "cache_write_5m": "cache_write",
    "cache_write_1h": "cache_write",
    "input_audio": "audio",
    "output_audio": "audio",
    "cache_read_audio": "audio",
    "input_image": "image",
    "output_image": "image",
}
# "scale" is OpenAI's Scale Tier (prepaid capacity units): stored as reported, priced only by an
# organisation's override, since its price is a contract, not a list price.
SERVICE_TIERS = ("standard", "batch", "priority", "flex", "scale")
# A price row's tier that applies in every tier (tools: a web search costs the same in batch); a row of
# the request's own tier wins over it.
ANY_TIER = "any"
# Anthropic's usage and cost reports put each bucket in a pricing tier of prompt length: the base
# rates up to 200K prompt tokens, the long-context rates above.
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
LONG_CONTEXT_WINDOW = "200k-1M"
LONG_CONTEXT_FROM = 200_000
# Where a cross-region inference profile runs: "" unknown / not applicable, "global" or "regional".
REGION_SCOPES = ("", "global", "regional")
UNIT_DIVISORS = {"token": 1, "1k_tokens": 1_000, "1m_tokens": 1_000_000, "call": 1, "1k_calls": 1_000}
TOKEN_UNITS = ("token", "1k_tokens", "1m_tokens")
CALL_UNITS = ("call", "1k_calls")
