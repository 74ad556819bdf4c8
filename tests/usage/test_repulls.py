"""Re-pulled provider usage buckets replace the stored bucket (never dropped, never added twice), and
usage that request logs and provider exports both report for one day, provider and model is shown as a
possible double count. Exact figures: gpt-4o lists 2.50 USD per million input and 10.00 per million
output tokens (2026-10)."""

import json
from datetime import date

import pytest
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.usage.models import DailyUsage, MonthlyUsage, UsageRecord, UsageSourceDay
from apps.usage.selectors import overlaps_in
from apps.usage.services.ingest import ingest_job_summary

from .test_ingest import ingest

pytestmark = pytest.mark.django_db

OCT_3 = 1790985600  # 2026-10-03T00:00:00Z
OCT_4 = OCT_3 + 86400


def openai_page(input_tokens: int, output_tokens: int = 200_000, *, start: int = OCT_3) -> bytes:
    result = {
        "object": "organization.usage.completions.result",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_cached_tokens": 0,
        "num_model_requests": 100,
        "project_id": "proj_search",
        "api_key_id": "key_abc",
        "user_id": None,
        "model": "gpt-4o",
        "batch": False,
    }
    bucket = {"object": "bucket", "start_time": start, "end_time": start + 86400, "results": [result]}
    return json.dumps({"object": "page", "data": [bucket], "has_more": False}).encode()


def litellm_row(day: str = "2026-10-03") -> bytes:
    row = {
        "request_id": "chatcmpl-overlap",
        "call_type": "acompletion",
        "spend": 0.0045,
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "startTime": f"{day}T10:00:00Z",
        "model": "gpt-4o",
        "custom_llm_provider": "openai",
        "team_id": None,
        "request_tags": [],
        "metadata": {},
    }
    return json.dumps(row).encode() + b"\n"


def cell(org):
    with scope(organization=org):
        daily = DailyUsage.objects.get(provider="openai")
        monthly = MonthlyUsage.objects.get(provider="openai")
        source_day = UsageSourceDay.objects.get(source="openai-usage")
    return (
        (daily.records, daily.input_tokens, daily.estimated_nano, daily.currency),
        (monthly.records, monthly.estimated_nano),
        (source_day.records, source_day.input_tokens, source_day.estimated_nano),
    )


def test_a_repulled_bucket_with_more_tokens_replaces_the_stored_one(catalog):
    org = catalog.org("a")
    first = ingest(org, openai_page(1_000_000), format="openai-usage", name="usage-1.json")
    assert (first.accepted, first.estimated_nano, first.currency) == (1, 4_500_000_000, "USD")
    assert cell(org) == ((1, 1_000_000, 4_500_000_000, "USD"), (1, 4_500_000_000), (1, 1_000_000, 4_500_000_000))

    again = ingest(org, openai_page(1_200_000), format="openai-usage", name="usage-2.json")
    assert (again.accepted, again.duplicates, again.replaced, again.rejected, again.rows_total) == (0, 0, 1, 0, 1)
    # The job's estimate is what it changed: 5.000000000 now instead of 4.500000000.
    assert (again.estimated_nano, again.estimated_by_currency) == (500_000_000, {"USD": 500_000_000})
    assert again.replaced_detail == {"2026-10-03": {"USD": [1, 4_500_000_000, 5_000_000_000]}}
    with scope(organization=org):
        record = UsageRecord.objects.get()
    assert (record.input_tokens, record.estimated_nano, record.job_id) == (1_200_000, 5_000_000_000, again.pk)
    # 5.000000000 in every cell: not 9.5 (added twice), not 4.5 (the re-pull dropped).
    assert cell(org) == ((1, 1_200_000, 5_000_000_000, "USD"), (1, 5_000_000_000), (1, 1_200_000, 5_000_000_000))
    with scope(organization=org):
        restated = list(AuditEvent.objects.filter(action="usage.buckets_restated").values_list("after", flat=True))
    assert len(restated) == 1
    assert restated[0]["replaced"] == 1
    assert restated[0]["estimate_delta_nano"] == {"USD": 500_000_000}
    assert audit_chain_verify(organization=org).ok
    assert ingest_job_summary(job=again)["replaced"] == 1

    # The same figures once more: a duplicate, nothing moves.
    same = ingest(org, openai_page(1_200_000), format="openai-usage", name="usage-3.json")
    assert (same.accepted, same.duplicates, same.replaced, same.estimated_nano) == (0, 1, 0, 0)
    assert cell(org) == ((1, 1_200_000, 5_000_000_000, "USD"), (1, 5_000_000_000), (1, 1_200_000, 5_000_000_000))
    with scope(organization=org):
        assert AuditEvent.objects.filter(action="usage.buckets_restated").count() == 1


def test_request_logs_and_a_provider_export_of_the_same_day_are_flagged_as_overlapping(catalog):
    org = catalog.org("a")
    logs = ingest(org, litellm_row(), format="litellm", name="spend.ndjson")
    assert (logs.accepted, logs.estimated_nano, logs.overlaps) == (1, 4_500_000, [])
    export = ingest(org, openai_page(1_000_000), format="openai-usage", name="usage.json")
    expected = {
        "day": "2026-10-03",
        "provider": "openai",
        "model": "gpt-4o",
        "currency": "USD",
        "request_sources": ["litellm"],
        "bucket_sources": ["openai-usage"],
        "request_nano": 4_500_000,
        "bucket_nano": 4_500_000_000,
        "overlap_nano": 4_500_000,
    }
    assert export.overlaps == [expected]
    summary = ingest_job_summary(job=export)
    assert summary["overlaps"] == [{**expected, "possibly_double_counted": "0.0045"}]
    found = overlaps_in(organization=org, first=date(2026, 10, 1), last=date(2026, 10, 31))
    assert [(o.day.isoformat(), o.overlap_nano, o.currency) for o in found] == [("2026-10-03", 4_500_000, "USD")]
    assert overlaps_in(organization=org, first=date(2026, 10, 4), last=date(2026, 10, 31)) == []
    # The other organisation sees none of it.
    assert overlaps_in(organization=catalog.org("b"), first=date(2026, 10, 1), last=date(2026, 10, 31)) == []


def test_an_export_of_another_day_is_no_overlap(catalog):
    org = catalog.org("a")
    ingest(org, litellm_row("2026-10-03"), format="litellm", name="spend.ndjson")
    export = ingest(org, openai_page(1_000_000, start=OCT_4), format="openai-usage", name="usage.json")
    assert (export.accepted, export.overlaps) == (1, [])
