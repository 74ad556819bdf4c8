"""Turning a bill's own words for a charge into (model, cost source).

Model names are resolved later against the price book (``PriceBook.resolve_model``); this module only
splits the source's text and keeps a small table for AWS's usage-type model names, which follow no
alias the price book could know (``Claude4.5Sonnet`` is ``claude-sonnet-4-5``).
"""

import re

# AWS CUR / FOCUS SkuId model names that are not derivable by rule.
CUR_MODEL_NAMES = {
    "novapro": "nova-pro",
    "novalite": "nova-lite",
    "novamicro": "nova-micro",
    "llama3.3-70b": "llama-3-3-70b",
    "titanembedtextv2": "titan-embed-text-v2",
}
_CLAUDE = re.compile(r"^claude(?P<version>\d+(?:\.\d+)?)(?P<family>sonnet|opus|haiku)$")
_REGION = re.compile(r"^[A-Z]{2,4}\d?-")
_CUR_SUFFIXES = (
    ("-cache-read-input-token-count", "cache_read"),
    ("-cache-write-input-token-count", "cache_write"),
    ("-input-tokens", "input"),
    ("-output-tokens", "output"),
    ("-input-token-count", "input"),
    ("-output-token-count", "output"),
)


def cur_model_code(name: str) -> str:
    """``Claude4.5Sonnet`` -> ``claude-sonnet-4-5``, ``Claude3.5Haiku`` -> ``claude-3-5-haiku``."""
    key = name.strip().lower()
    if key in CUR_MODEL_NAMES:
        return CUR_MODEL_NAMES[key]
    match = _CLAUDE.match(key)
    if match:
        version = match["version"].replace(".", "-")
        # Anthropic put the family first from the 4 generation on (claude-sonnet-4-5, claude-3-7-sonnet).
        if int(match["version"].split(".")[0]) >= 4:
            return f"claude-{match['family']}-{version}"
        return f"claude-{version}-{match['family']}"
    return ""


def split_cur_usage_type(usage_type: str) -> tuple[str, str, str]:
    """``USW2-Claude4.5Sonnet-input-tokens`` -> (model code or "", raw model name, cost source)."""
    text = _REGION.sub("", usage_type.strip())
    lowered = text.lower()
    for suffix, cost_source in _CUR_SUFFIXES:
        if lowered.endswith(suffix):
            raw = text[: -len(suffix)]
            raw = re.sub(r"-batch$", "", raw, flags=re.IGNORECASE)
            return cur_model_code(raw), raw, cost_source
    return "", text, "other"


def split_openai_line_item(line_item: str) -> tuple[str, str]:
    """``gpt-4o-2024-08-06, input`` -> ("gpt-4o-2024-08-06", "input");
    ``web search tool calls`` -> ("", "tool_calls")."""
    text = (line_item or "").strip()
    if "," in text:
        model, _, kind = text.rpartition(",")
        return model.strip(), token_kind(kind)
    return "", token_kind(text)


def token_kind(text: str) -> str:
    """The cost source named by a meter or line-item text ("Cached Input Tokens" -> cache_read)."""
    lowered = (text or "").lower().replace("_", " ").replace("-", " ")
    if "cache" in lowered or "cached" in lowered:
        if any(word in lowered for word in ("write", "creation", "storage")):
            return "cache_write"
        return "cache_read"
    if any(word in lowered for word in ("tool", "search", "interpreter", "code execution", "grounding")):
        return "tool_calls"
    if "input" in lowered or "prompt" in lowered:
        return "input"
    if "output" in lowered or "completion" in lowered:
        return "output"
    return "other"


ANTHROPIC_TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
    "cache_creation_input_tokens": "cache_write",
}


def anthropic_cost_source(cost_type: str, token_type: str) -> str:
    if cost_type in ("web_search", "code_execution"):
        return "tool_calls"
    if cost_type == "tokens":
        return ANTHROPIC_TOKEN_TYPES.get(token_type, token_kind(token_type))
    return "other"


_WORDS = re.compile(r"\b(input|output|cached|cache|read|write|tokens?|characters?|requests?)\b", re.IGNORECASE)


def model_from_description(text: str) -> str:
    """``Gemini 2.5 Flash input tokens`` -> ``gemini-2.5-flash`` (a candidate for the price book)."""
    stripped = _WORDS.sub(" ", text or "")
    return "-".join(stripped.lower().split())
