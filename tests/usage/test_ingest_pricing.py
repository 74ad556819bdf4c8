"""Issue 15's pricing semantics through ingest: what a stored record is estimated at (2026-10-14)."""

import json

import pytest
from django_scopes import scope

from apps.usage.models import UsageRecord
from tests.usage.test_ingest import ingest
from tests.usage.test_parser_semantics import OPUS, _anthropic_page, _canonical, _litellm, _openai_page

pytestmark = pytest.mark.django_db


def _record(organization) -> UsageRecord:
    with scope(organization=organization):
        return UsageRecord.objects.get()


def test_a_0_200k_anthropic_bucket_is_stored_at_base_rates(catalog):
    org = catalog.org("a")
    job = ingest(org, _anthropic_page(), name="anthropic.json")
    assert (job.format, job.accepted, job.estimated_nano) == ("anthropic-usage", 1, 10_875_000_000)
    record = _record(org)
    assert (record.cost_input_nano, record.cost_cache_read_nano, record.cost_cache_write_nano) == (
        3_600_000_000,
        2_400_000_000,
        1_125_000_000,
    )


def test_is_batch_alone_is_stored_and_priced_as_batch(catalog):
    org = catalog.org("a")
    line = _canonical(is_batch=True, tags={"team": "search", "feature": "f", "workspace": "w", "environment": "e"})
    job = ingest(org, line)
    assert (job.accepted, job.estimated_nano) == (1, 2_250_000_000)
    record = _record(org)
    assert (record.service_tier, record.is_batch) == ("batch", True)


def test_is_batch_with_another_tier_is_a_row_error(catalog):
    org = catalog.org("a")
    job = ingest(org, _canonical(is_batch=True, service_tier="priority"))
    assert (job.accepted, job.rejected) == (0, 1)


def test_litellm_cache_writes_are_stored_as_cache_writes(catalog):
    org = catalog.org("a")
    job = ingest(org, _litellm(**OPUS), format="litellm", name="spend.ndjson")
    assert (job.accepted, job.estimated_nano) == (1, 363_948_750)
    record = _record(org)
    assert (record.input_tokens, record.cache_write_5m_tokens, record.cost_cache_write_nano) == (
        10,
        32_435,
        202_718_750,
    )


def test_openai_scale_rows_are_stored_unpriced(catalog):
    org = catalog.org("a")
    page = _openai_page(input_tokens=1_000_000, output_tokens=200_000, service_tier="scale")
    job = ingest(org, page, name="openai.json")
    assert (job.accepted, job.rejected, job.unpriced_rows, job.estimated_nano) == (1, 0, 1, 0)
    record = _record(org)
    assert (record.service_tier, record.unpriced) == ("scale", True)


def test_bedrock_profiles_keep_the_canonical_model(catalog):
    org = catalog.org("a")
    body = b"".join(
        json.dumps(
            {
                "request_id": f"b-{profile}",
                "occurred_at": "2026-10-14T10:00:00Z",
                "provider": "aws-bedrock",
                "model": f"{profile}.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "usage": {"input_tokens": 100_000, "output_tokens": 10_000},
            }
        ).encode()
        + b"\n"
        for profile in ("us", "global")
    )
    ingest(org, body)
    with scope(organization=org):
        records = {r.model_raw.split(".")[0]: r for r in UsageRecord.objects.all()}
    # Reconciliation still matches the CUR's model whatever the profile; the global one is the list price
    # (the regional +10% is in tests/pricing/test_semantics.py, from the rows of that scope).
    assert {r.model for r in records.values()} == {"claude-sonnet-4-5"}
    assert records["global"].estimated_nano == 450_000_000
