"""Reading a provider's paginated report over HTTP (the standard library's urllib, no SDK).

Both providers page their usage and cost reports the same way: the answer is ``{"data": [...buckets],
"has_more": bool, "next_page": "<cursor>"}`` and the next request repeats the query with ``page=<cursor>``
(OpenAI: organisation Costs and Usage APIs; Anthropic: Admin API usage and cost reports). Arrays in the query
are sent as ``group_by[]=a&group_by[]=b``, the form both providers' SDKs use.

A 429 (or a 503) is waited out for what its Retry-After says (seconds or an HTTP date; at most
CONNECTOR_MAX_RETRY_AFTER_SECONDS) and the same request is sent again, CONNECTOR_MAX_RETRIES times at most.
Every other error ends the read with a ConnectorError that names the status and the provider's message, and
never the credentials. A page is kept as the exact bytes that arrived (numbers are never re-serialised): the
readers of uploaded exports read them as they would read a saved file."""

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings

MAX_PAGES = 2000  # one report of one pull; far beyond any window a connection reads
MAX_PAGE_BYTES = 20 * 1024 * 1024
RETRY_STATUSES = (429, 503)

# Where a wait happens (tests record the waits instead of sleeping).
sleep = time.sleep


class ConnectorError(Exception):
    """The provider could not be read: the message says why, for a person (no credentials in it)."""


@dataclass
class ReadFigures:
    requests: int = 0
    pages: int = 0
    results: int = 0
    rate_limited: int = 0
    waits: list = field(default_factory=list)  # seconds waited on each 429/503, in order


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float:
    """Retry-After as seconds: a number of seconds, or an HTTP date (RFC 9110 §10.2.3); 1 when absent or unreadable."""
    if not value:
        return 1.0
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def query_string(params: dict) -> str:
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", str(item)) for item in value)
        else:
            pairs.append((key, str(value)))
    return urllib.parse.urlencode(pairs)


def _provider_message(body: bytes) -> str:
    try:
        document = json.loads(body[:65536])
    except ValueError:
        return body[:200].decode("utf-8", errors="replace").strip()
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "")[:300]
    return str(error or "")[:300]


def _get(url: str, headers: dict, figures: ReadFigures) -> bytes:
    attempts = 0
    while True:
        figures.requests += 1
        # The URL is a configured base URL (http or https, checked in read_pages) and a fixed path.
        request = urllib.request.Request(url, headers={**headers, "Accept": "application/json"}, method="GET")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=settings.CONNECTOR_TIMEOUT_SECONDS) as response:  # noqa: S310
                body = response.read(MAX_PAGE_BYTES + 1)
        except urllib.error.HTTPError as error:
            body = error.read(65536)
            if error.code in RETRY_STATUSES and attempts < settings.CONNECTOR_MAX_RETRIES:
                attempts += 1
                if error.code == 429:
                    figures.rate_limited += 1
                wait = min(
                    retry_after_seconds(error.headers.get("Retry-After")), settings.CONNECTOR_MAX_RETRY_AFTER_SECONDS
                )
                figures.waits.append(wait)
                sleep(wait)
                continue
            what = {401: "refused the credentials", 403: "refused access (is it an admin key?)"}.get(error.code, "")
            detail = _provider_message(body)
            raise ConnectorError(
                f"The provider answered {error.code}{' and ' + what if what else ''}"
                f"{' after ' + str(attempts) + ' retries' if attempts else ''}{': ' + detail if detail else ''}."
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectorError(f"The provider could not be reached: {reason}.") from None
        if len(body) > MAX_PAGE_BYTES:
            raise ConnectorError(f"A page of the report is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB.")
        return body


def read_pages(base_url: str, path: str, params: dict, headers: dict, figures: ReadFigures) -> list[bytes]:
    """Every page of one report, in order, as the bytes that arrived. Follows ``next_page`` while ``has_more``."""
    if not base_url.startswith(("https://", "http://")):
        raise ConnectorError(f"The provider's base URL must start with https:// (got {base_url[:40]!r}).")
    pages: list[bytes] = []
    cursor = None
    seen: set[str] = set()
    while True:
        query = {**params, "page": cursor} if cursor else params
        body = _get(f"{base_url}{path}?{query_string(query)}", headers, figures)
        try:
            page = json.loads(body, parse_float=Decimal)
        except ValueError as exc:
            raise ConnectorError(f"The provider's answer to {path} is not JSON: {exc}.") from None
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise ConnectorError(f"The provider's answer to {path} has no data list of buckets.")
        pages.append(body)
        figures.pages += 1
        for bucket in page["data"]:
            results = bucket.get("results", bucket.get("result")) if isinstance(bucket, dict) else None
            figures.results += len(results) if isinstance(results, list) else int(isinstance(results, dict))
        cursor = page.get("next_page")
        if not page.get("has_more") or not cursor:
            return pages
        if cursor in seen:
            raise ConnectorError(f"The provider returned the page cursor {cursor!r} twice for {path}; stopped.")
        seen.add(cursor)
        if len(pages) >= MAX_PAGES:
            raise ConnectorError(f"More than {MAX_PAGES} pages for {path}; stopped.")


def pages_document(pages: list[bytes]) -> bytes:
    """The pages as one JSON array of the exact bytes received: what an export saved to a file looks like."""
    return b"[\n" + b",\n".join(page.strip() for page in pages) + b"\n]\n"
