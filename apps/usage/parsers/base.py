"""The usage event and the usage-only field readers (service tier, tool calls). The format-neutral row
errors and value readers that usage and invoices share are in ``apps.ingest.rows``."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from apps.ingest.rows import RowProblem, as_calls, as_mapping, as_text
from apps.pricing.constants import CONTEXT_WINDOWS, REGION_SCOPES, SERVICE_TIERS
from apps.taxonomy.normalise import storage_problem

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")
# Audio and image tokens, apart from (never included in) the text counts above.
MODALITY_FIELDS = ("input_audio_tokens", "output_audio_tokens", "input_image_tokens", "output_image_tokens")


@dataclass(slots=True)
class UsageEvent:
    line: int
    request_id: str
    occurred_at: datetime
    provider: str
    model: str
    service_tier: str = "standard"
    tags: dict = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    input_audio_tokens: int = 0
    output_audio_tokens: int = 0
    input_image_tokens: int = 0
    output_image_tokens: int = 0
    tool_calls: dict = field(default_factory=dict)
    is_retry: bool = False
    is_batch: bool = False
    trace_id: str = ""
    gateway_cost: Decimal | None = None
    request_count: int = 1
    # The pricing tier a provider's report put the bucket in ("0-200k" | "200k-1M"); None: decide from the
    # request's own prompt (a single request).
    context_window: str | None = None
    # Where a cross-region inference profile runs ("global" | "regional"); "" when the id does not say.
    region_scope: str = ""

    def priced_usage(self) -> dict[str, int]:
        """The quantities the estimator prices, by its usage keys (apps.pricing.constants.USAGE_KEYS)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "input_audio_tokens": self.input_audio_tokens,
            "output_audio_tokens": self.output_audio_tokens,
            "input_image_tokens": self.input_image_tokens,
            "output_image_tokens": self.output_image_tokens,
        }

    # (mapping kind, external id) pairs whose configured tags fill in tags the event lacks.
    mapping_keys: tuple = ()


def as_tier(value, field_name: str = "service_tier") -> str:
    tier = as_text(value, field_name).lower() or "standard"
    if tier in {"default", "auto", "on_demand", "on-demand"}:
        tier = "standard"
    if tier not in SERVICE_TIERS:
        raise RowProblem(field_name, f"must be one of {', '.join(SERVICE_TIERS)}, got {value!r}")
    return tier


def batch_tier(raw_tier, is_batch: bool, field_name: str = "service_tier") -> tuple[str, bool]:
    """The service tier and batch flag, agreeing: a batch request is priced at the batch tier, so
    ``is_batch`` with no tier means tier batch, tier batch means ``is_batch``, and ``is_batch`` with
    another tier is a contradiction the row is refused for (never priced at the standard rate)."""
    explicit = raw_tier is not None and not (isinstance(raw_tier, str) and not raw_tier.strip())
    tier = as_tier(raw_tier, field_name)
    if is_batch and tier != "batch":
        if explicit:
            raise RowProblem("is_batch", f"is true but {field_name} is {tier}")
        tier = "batch"
    return tier, tier == "batch"


def as_context_window(value, field_name: str = "context_window") -> str | None:
    text = as_text(value, field_name)
    if not text:
        return None
    for window in CONTEXT_WINDOWS:
        if text.lower() == window.lower():
            return window
    raise RowProblem(field_name, f"must be one of {', '.join(CONTEXT_WINDOWS)}, got {value!r}")


def as_region_scope(value, field_name: str = "region_scope") -> str:
    text = as_text(value, field_name).lower()
    if text not in REGION_SCOPES:
        raise RowProblem(field_name, f"must be global or regional, got {value!r}")
    return text


def tool_counts(value, field_name: str = "tool_calls") -> dict[str, int]:
    counts = {}
    for name, calls in as_mapping(value, field_name).items():
        number = as_calls(calls, f"{field_name}.{name}")
        if number:
            tool = str(name).strip().lower()
            problem = storage_problem(tool) or ("is longer than 100 characters" if len(tool) > 100 else "")
            if problem:
                raise RowProblem(f"{field_name}.{name!r}", f"tool name {problem}")
            counts[tool] = number
    return counts
