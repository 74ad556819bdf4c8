"""The migration that partitions the usage table keeps a populated table's rows where they are (PostgreSQL): they
become one partition over their months, keyed like the others, and ids continue after the old identity's."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.usage import partitions
from tests.dbchecks import migrate_to_latest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the table is partitioned on PostgreSQL only"),
]

BEFORE = ("usage", "0009_tenant_fk")
AFTER = ("usage", "0010_usagerecord_partitioned_by_month")
COLUMNS = (
    "organization_id, source, request_id, occurred_at, day, provider, model, model_raw, service_tier, tagset_id, "
    "detail_tags, trace_id, is_retry, is_batch, request_count, input_tokens, output_tokens, cache_read_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, tool_calls, tool_calls_detail, cost_input_nano, "
    "cost_output_nano, cost_cache_read_nano, cost_cache_write_nano, cost_tools_nano, estimated_nano, unpriced, "
    "missing_required_tags"
)


def _insert(cursor, organization_id: int, request_id: str, day: str) -> None:
    cursor.execute(
        f"INSERT INTO usage_usagerecord ({COLUMNS}) VALUES (%s, 'events', %s, %s, %s, 'openai', 'gpt-4o-mini', "
        "'gpt-4o-mini', 'standard', 1, '{}', '', false, false, 1, 10, 1, 0, 0, 0, 0, '{}', 7, 3, 0, 0, 0, 10, "
        "false, false)",
        [organization_id, request_id, f"{day}T12:00:00Z", day],
    )


def _migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def test_a_populated_table_becomes_one_partition_and_ids_continue(world):
    organization = world.org("a")
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'usage_usagerecord'")
            assert cursor.fetchone() == ("r",)  # the plain table of before
            _insert(cursor, organization.pk, "r-1", "2026-08-31")
            _insert(cursor, organization.pk, "r-2", "2026-09-01")
            _insert(cursor, organization.pk, "r-3", "2026-10-15")
            cursor.execute("SELECT max(id) FROM usage_usagerecord")
            last_id = cursor.fetchone()[0]
    finally:
        _migrate(AFTER)

    legacy = partitions.partition_for(date(2026, 9, 1))
    assert legacy == partitions.Partition("usage_usagerecord_legacy", date(2026, 8, 1), date(2026, 11, 1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_id, day, tableoid::regclass::text FROM usage_usagerecord ORDER BY id")
        assert cursor.fetchall() == [
            ("r-1", date(2026, 8, 31), "usage_usagerecord_legacy"),
            ("r-2", date(2026, 9, 1), "usage_usagerecord_legacy"),
            ("r-3", date(2026, 10, 15), "usage_usagerecord_legacy"),
        ]
        # keyed like every partition: the replay of a stored event is refused by the idempotency key
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'usage_usagerecord_legacy'::regclass "
            "AND contype IN ('p', 'u') ORDER BY contype"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "PRIMARY KEY (organization_id, id, day)",
            "UNIQUE (organization_id, source, request_id, day)",
        ]
        # ids continue after the old identity's last
        partitions.ensure_months([date(2026, 11, 2)])
        _insert(cursor, organization.pk, "r-4", "2026-11-02")
        cursor.execute("SELECT id, tableoid::regclass::text FROM usage_usagerecord WHERE request_id = 'r-4'")
        assert cursor.fetchone() == (last_id + 1, "usage_usagerecord_2026_11")


@pytest.fixture(autouse=True)
def _monthly_partitions_again():
    """Leave the test database as the other tests expect it: an empty table with monthly partitions (the
    migration rebuilds an empty table)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE usage_usagerecord")
    _migrate(BEFORE)
    _migrate(AFTER)
    # Going back to BEFORE also unapplied every later migration that depends on it (the connectors' tables):
    # the other tests need them all.
    migrate_to_latest()
    assert "usage_usagerecord_legacy" not in {p.name for p in partitions.partitions()}
