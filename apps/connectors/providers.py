"""What each provider's connection reads: the endpoints, their queries and headers, and which reader of the
uploads (``apps.usage.parsers`` / ``apps.invoices.parsers`` formats) each report goes through.

From the providers' API references (OpenAI: "Usage" and "Costs" of the organisation Administration API;
Anthropic: Admin API "Get Messages Usage Report" and "Get Cost Report"):

- OpenAI: ``GET /v1/organization/usage/completions`` and ``/v1/organization/usage/embeddings`` and
  ``GET /v1/organization/costs``; ``start_time``/``end_time`` in Unix seconds (end exclusive), ``bucket_width=1d``,
  ``group_by[]``, ``limit`` (usage: at most 31 daily buckets a page; costs: at most 180), ``page`` = the previous
  answer's ``next_page``. Authorization: ``Bearer`` an admin key.
- Anthropic: ``GET /v1/organizations/usage_report/messages`` and ``/v1/organizations/cost_report``;
  ``starting_at``/``ending_at`` as RFC 3339, ``bucket_width=1d``, ``group_by[]``, ``limit`` (at most 31 daily
  buckets), ``page``. Headers ``x-api-key`` (an Admin API key, ``sk-ant-admin…``) and ``anthropic-version``.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Report:
    name: str  # in file names and idempotency keys
    kind: str  # "usage" (a usage ingest job) or "costs" (an invoice ingest job)
    path: str
    format: str  # the upload format whose reader reads the pages
    params: dict


@dataclass(frozen=True)
class ProviderApi:
    base_url_setting: str
    reports: tuple[Report, ...]

    def base_url(self) -> str:
        return getattr(settings, self.base_url_setting)

    def headers(self, credentials: dict) -> dict:
        raise NotImplementedError

    def window(self, start: datetime, end: datetime) -> dict:
        raise NotImplementedError


class OpenAI(ProviderApi):
    def headers(self, credentials: dict) -> dict:
        return {"Authorization": f"Bearer {credentials['api_key']}"}

    def window(self, start: datetime, end: datetime) -> dict:
        return {"start_time": int(start.timestamp()), "end_time": int(end.timestamp()), "bucket_width": "1d"}


class Anthropic(ProviderApi):
    def headers(self, credentials: dict) -> dict:
        return {"x-api-key": credentials["api_key"], "anthropic-version": ANTHROPIC_VERSION}

    def window(self, start: datetime, end: datetime) -> dict:
        def rfc3339(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {"starting_at": rfc3339(start), "ending_at": rfc3339(end), "bucket_width": "1d"}


# The group_by fields are those the readers key a bucket by (its derived request id or bucket key): a finer
# grouping than they read would fold distinct buckets into one id.
OPENAI_USAGE_GROUPS = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
OPENAI_EMBEDDING_GROUPS = ["project_id", "user_id", "api_key_id", "model"]

PROVIDERS: dict[str, ProviderApi] = {
    "openai": OpenAI(
        "CONNECTOR_OPENAI_BASE_URL",
        (
            Report(
                "completions",
                "usage",
                "/v1/organization/usage/completions",
                "openai-usage",
                {"group_by": OPENAI_USAGE_GROUPS, "limit": 31},
            ),
            Report(
                "embeddings",
                "usage",
                "/v1/organization/usage/embeddings",
                "openai-usage",
                {"group_by": OPENAI_EMBEDDING_GROUPS, "limit": 31},
            ),
            Report(
                "costs",
                "costs",
                "/v1/organization/costs",
                "openai-costs",
                {"group_by": ["project_id", "line_item"], "limit": 180},
            ),
        ),
    ),
    "anthropic": Anthropic(
        "CONNECTOR_ANTHROPIC_BASE_URL",
        (
            Report(
                "messages",
                "usage",
                "/v1/organizations/usage_report/messages",
                "anthropic-usage",
                {"group_by": ["model", "workspace_id", "api_key_id", "service_tier", "context_window"], "limit": 31},
            ),
            Report(
                "cost-report",
                "costs",
                "/v1/organizations/cost_report",
                "anthropic-cost-report",
                {"group_by": ["workspace_id", "description"], "limit": 31},
            ),
        ),
    ),
}
