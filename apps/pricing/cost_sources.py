"""The one vocabulary of cost sources: which part of an AI request a cost is for.

The price book prices each source, usage keeps a cost column per source (``apps.usage.models.COST_COLUMNS``),
a bill's line names its source (or ``other``: fees, storage, tax, credits), and reconciliation, allocation
and statements compare and split costs by it. Pricing is the lowest floor that all of them stand on; no
imports, so the pure engines can read it too.
"""

OTHER_SOURCE = "other"
# source -> how it is shown (the invoice line's choices)
COST_SOURCE_LABELS = {
    "input": "Input tokens",
    "output": "Output tokens",
    "cache_read": "Cache reads",
    "cache_write": "Cache writes",
    "tool_calls": "Tool calls",
    OTHER_SOURCE: "Other",
}
# What a bill's line may be for.
BILL_COST_SOURCES = tuple(COST_SOURCE_LABELS)
# What a price book prices and usage measures: every source but "other", which only a bill's line has.
COST_SOURCES = tuple(source for source in BILL_COST_SOURCES if source != OTHER_SOURCE)
