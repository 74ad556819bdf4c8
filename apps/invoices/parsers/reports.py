"""Provider cost APIs saved as files: OpenAI Costs API pages and Anthropic cost report pages.

A file is one page (a JSON object), a JSON array of pages, or NDJSON with one page a line: the usual
result of paging through ``next_page``. Numbers are read with ``parse_float=Decimal`` so an amount never
passes through a float. In JSON files the error ``line`` is the 1-based position of the result across
all pages (for NDJSON, the line of its page).
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO

from apps.core.limits import JSONStreamError, iter_json_pages
from apps.ingest.rows import MAX_LINE_BYTES, RowError, RowProblem, as_amount, as_decimal, as_text

from .base import ParsedLine, as_currency, as_instant, month_start
from .naming import anthropic_cost_source, split_openai_line_item


def _pages(stream: BinaryIO) -> Iterator[tuple[int, object] | RowError]:
    """(line number, page) for every page in the file, in order, read one page at a time (never the whole
    file). Line 0 marks a page of a whole JSON document or array: its results are numbered by position."""
    for kind, number, value in iter_json_pages(stream, max_line_bytes=MAX_LINE_BYTES):
        if isinstance(value, JSONStreamError):
            yield RowError(number, "(line)" if value.too_long else "(json)", value.row_message())
        else:
            yield (number if kind == "line" else 0), value


def _results(stream: BinaryIO) -> Iterator[tuple[int, dict, dict] | RowError]:
    position = 0
    for item in _pages(stream):
        if isinstance(item, RowError):
            yield item
            continue
        line_no, page = item
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            yield RowError(line_no or 1, "data", "expected a page object with a data list of buckets")
            continue
        for bucket in page["data"]:
            results = bucket.get("results", bucket.get("result")) if isinstance(bucket, dict) else None
            if isinstance(results, dict):
                results = [results]
            if not isinstance(results, list):
                position += 1
                yield RowError(line_no or position, "results", "a bucket without results")
                continue
            for result in results:
                position += 1
                where = line_no or position
                if not isinstance(result, dict):
                    yield RowError(where, "results", "each result must be an object")
                    continue
                yield where, bucket, result


def _exact(value, field_name: str) -> Decimal:
    if isinstance(value, float):  # cannot happen with json_loads; refuse rather than round
        raise RowProblem(field_name, "must not be a binary float")
    amount = as_decimal(value, field_name)
    if amount is None:
        raise RowProblem(field_name, "is required")
    return amount


def _bounded_amount(amount: Decimal, field_name: str) -> Decimal:
    """An amount within the per-row ceiling (apps.core.ceilings), checked after any unit conversion."""
    return as_amount(amount, field_name)


def _bucket_times(bucket: dict, start_key: str, end_key: str) -> tuple[datetime, datetime]:
    start = as_instant(bucket.get(start_key), start_key)
    end_value = bucket.get(end_key)
    end = as_instant(end_value, end_key) if end_value not in (None, "") else start + timedelta(days=1)
    return start, end


def read_openai_costs(stream: BinaryIO) -> Iterator[ParsedLine | RowError]:
    for item in _results(stream):
        if isinstance(item, RowError):
            yield item
            continue
        where, bucket, result = item
        try:
            start, end = _bucket_times(bucket, "start_time", "end_time")
            amount_obj = result.get("amount")
            if not isinstance(amount_obj, dict):
                raise RowProblem("amount", "must be an object with value and currency")
            amount = _bounded_amount(_exact(amount_obj.get("value"), "amount.value"), "amount.value")
            currency = as_currency(amount_obj.get("currency") or "usd", "amount.currency")
            line_item = as_text(result.get("line_item"), "line_item", max_length=300)
            model_raw, cost_source = split_openai_line_item(line_item)
            project = as_text(result.get("project_id"), "project_id")
            yield ParsedLine(
                line=where,
                invoice_provider="openai",
                invoice_number=f"openai-costs-{start:%Y-%m}",
                derived_number=True,
                billing_period=month_start(start),
                currency=currency,
                charge_period_start=start,
                charge_period_end=end,
                amount=amount,
                provider="openai",
                service="OpenAI API",
                model_raw=model_raw,
                cost_source=cost_source,
                usage_type=line_item,
                tags={"openai_project": project} if project else {},
                raw={
                    "start_time": _text(bucket.get("start_time")),
                    "end_time": _text(bucket.get("end_time")),
                    **_plain(result),
                },
            )
        except RowProblem as problem:
            yield RowError(where, problem.field, problem.message)


def read_anthropic_cost_report(stream: BinaryIO) -> Iterator[ParsedLine | RowError]:
    for item in _results(stream):
        if isinstance(item, RowError):
            yield item
            continue
        where, bucket, result = item
        try:
            start, end = _bucket_times(bucket, "starting_at", "ending_at")
            # The cost report gives amounts in CENTS, as a decimal string: "1234.5" is 12.345 dollars.
            cents = _exact(result.get("amount"), "amount")
            amount = _bounded_amount(cents.scaleb(-2), "amount")  # exact: a shift of the exponent, no division
            cost_type = as_text(result.get("cost_type"), "cost_type").lower()
            token_type = as_text(result.get("token_type"), "token_type").lower()
            workspace = as_text(result.get("workspace_id"), "workspace_id")
            tier = as_text(result.get("service_tier"), "service_tier")
            tags = {"anthropic_workspace": workspace} if workspace else {}
            if tier:
                tags["service_tier"] = tier
            yield ParsedLine(
                line=where,
                invoice_provider="anthropic",
                invoice_number=f"anthropic-cost-{start:%Y-%m}",
                derived_number=True,
                billing_period=month_start(start),
                currency=as_currency(result.get("currency") or "USD", "currency"),
                charge_period_start=start,
                charge_period_end=end,
                amount=amount,
                provider="anthropic",
                service=as_text(result.get("description"), "description") or "Anthropic API",
                model_raw=as_text(result.get("model"), "model"),
                cost_source=anthropic_cost_source(cost_type, token_type),
                usage_type=":".join(part for part in (cost_type, token_type) if part),
                tags=tags,
                raw={
                    "starting_at": _text(bucket.get("starting_at")),
                    "ending_at": _text(bucket.get("ending_at")),
                    **_plain(result),
                },
            )
        except RowProblem as problem:
            yield RowError(where, problem.field, problem.message)


def _text(value) -> str:
    if isinstance(value, int):
        return datetime.fromtimestamp(value, tz=UTC).isoformat()
    return "" if value is None else str(value)


def _plain(value):
    """JSON-safe copy with Decimals as their exact text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
