"""Which reader reads which format, and recognising a bill from its first bytes."""

from collections.abc import Callable, Iterator

from apps.ingest.rows import FileRefused, RowError, json_loads

from .aws_cur import read_aws_cur
from .base import ParsedLine
from .focus import read_focus
from .generic import read_generic_csv
from .reports import read_anthropic_cost_report, read_openai_costs

Reader = Callable[..., Iterator[ParsedLine | RowError]]

FORMATS: dict[str, Reader] = {
    "focus": read_focus,
    "openai-costs": read_openai_costs,
    "anthropic-cost-report": read_anthropic_cost_report,
    "aws-cur": read_aws_cur,
    "csv": read_generic_csv,
}
FORMAT_CHOICES = ("auto", *FORMATS)


def reader_for(format_name: str) -> Reader:
    try:
        return FORMATS[format_name]
    except KeyError as exc:
        raise FileRefused(f"unknown format {format_name!r}; use one of: {', '.join(FORMAT_CHOICES)}") from exc


def _classify_json(text: str) -> str | None:
    if '"cost_type"' in text or '"token_type"' in text or '"starting_at"' in text:
        return "anthropic-cost-report"
    if '"line_item"' in text or "organization.costs.result" in text or '"start_time"' in text:
        return "openai-costs"
    return None


def detect_format(head: bytes, file_name: str = "") -> str:
    """Guess from the first bytes (already known to be UTF-8). Raises FileRefused when unsure."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
    if not text:
        raise FileRefused("the file is empty")
    if text[0] in "{[":
        first_line = text.split("\n", 1)[0]
        for snippet in (first_line, text):
            try:
                document = json_loads(snippet)
            except ValueError:
                continue
            kind = _classify_json(snippet)
            if kind and isinstance(document, dict | list):
                return kind
        kind = _classify_json(text)
        if kind:
            return kind
        raise FileRefused(
            "could not recognise the JSON format: expected OpenAI Costs API or Anthropic cost report pages"
        )
    header = {c.strip().strip('"') for c in text.split("\n", 1)[0].strip().split(",")}
    if "ChargeCategory" in header and ("BilledCost" in header or "EffectiveCost" in header):
        return "focus"
    if "line_item_usage_type" in header or "line_item_unblended_cost" in header:
        return "aws-cur"
    if {"invoice_number", "amount", "provider"} <= header:
        return "csv"
    if "lineItem/UsageType" in header:
        raise FileRefused("this is a legacy CUR (lineItem/… columns); export CUR 2.0 (line_item_… columns) instead")
    raise FileRefused(
        f"could not recognise the format of {file_name or 'the file'}: expected a FOCUS CSV, AWS CUR 2.0 CSV, "
        "OpenAI Costs or Anthropic cost report JSON, or the generic invoice CSV"
    )
