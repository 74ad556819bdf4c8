"""The migration that adds the currency labels what is stored "USD" (the shipped book priced it in USD):
records, cube cells and rollup cells, on the partitioned table of PostgreSQL as on SQLite."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("usage", "0011_monthly_rollups")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_stored_records_and_cells_are_labelled_usd(world):
    from apps.taxonomy.models import TagSet

    organization = world.org("a")
    tagset = TagSet.objects.create(organization=organization, hash="h" * 64, tags={"team": "search"})
    _migrate(BEFORE)
    try:
        from datetime import date

        from apps.usage.partitions import ensure_months

        ensure_months([date(2026, 10, 3)])  # made by the writer ahead of its rows
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO usage_usagerecord (organization_id, source, request_id, occurred_at, day, provider, "
                "model, model_raw, service_tier, tagset_id, detail_tags, trace_id, is_retry, is_batch, "
                "request_count, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, "
                "cache_write_1h_tokens, tool_calls, tool_calls_detail, cost_input_nano, cost_output_nano, "
                "cost_cache_read_nano, cost_cache_write_nano, cost_tools_nano, estimated_nano, unpriced, "
                "missing_required_tags) VALUES (%s, 'events', 'r-1', '2026-10-03T10:00:00+00:00', '2026-10-03', "
                "'openai', 'gpt-4o', 'gpt-4o', 'standard', %s, '{}', '', false, false, 1, 1000, 200, 0, 0, 0, 0, "
                "'{}', 2500000, 2000000, 0, 0, 0, 4500000, false, false)",
                [organization.pk, tagset.pk],
            )
            sums = (
                "records, requests, unpriced_records, input_tokens, output_tokens, cache_read_tokens, "
                "cache_write_tokens, tool_calls, cost_input_nano, cost_output_nano, cost_cache_read_nano, "
                "cost_cache_write_nano, cost_tools_nano, estimated_nano, gateway_cost_nano"
            )
            values = "1, 1, 0, 1000, 200, 0, 0, 0, 2500000, 2000000, 0, 0, 0, 4500000, 0"
            for table, key, key_values in (
                (
                    "usage_dailyusage",
                    "day, provider, model, service_tier, tagset_id, is_retry, is_batch",
                    "'2026-10-03', 'openai', 'gpt-4o', 'standard', %s, false, false",
                ),
                (
                    "usage_monthlyusage",
                    "month, provider, model, service_tier, tagset_id, is_retry, is_batch",
                    "'2026-10-01', 'openai', 'gpt-4o', 'standard', %s, false, false",
                ),
            ):
                cursor.execute(
                    f"INSERT INTO {table} (organization_id, {key}, {sums}) VALUES (%s, {key_values}, {values})",
                    [organization.pk, tagset.pk],
                )
    finally:
        _migrate(_latest())
    with connection.cursor() as cursor:
        for table in ("usage_usagerecord", "usage_dailyusage", "usage_monthlyusage"):
            cursor.execute(
                f"SELECT currency, estimated_nano FROM {table} WHERE organization_id = %s", [organization.pk]
            )
            assert cursor.fetchall() == [("USD", 4_500_000)], table
        # UsageSourceDay was built from the stored record.
        cursor.execute(
            "SELECT day, provider, model, source, currency, records, estimated_nano FROM usage_usagesourceday "
            "WHERE organization_id = %s",
            [organization.pk],
        )
        [(day, *rest)] = cursor.fetchall()
        assert (str(day), *rest) == ("2026-10-03", "openai", "gpt-4o", "events", "USD", 1, 4_500_000)
