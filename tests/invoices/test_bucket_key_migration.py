"""Migration 0008 gives the cost-report lines stored before it their bucket keys and resolves the double counts
that re-pulls had already made: the newest line of a bucket stays, the others become restatements."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_scopes import scope

from apps.invoices.models import InvoiceLine, InvoiceLineRestatement, ProviderInvoice
from apps.invoices.parsers.base import bucket_key_of
from tests.dbchecks import migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("invoices", "0007_invoiceline_bucket_key_restatement")
AFTER = ("invoices", "0008_fill_bucket_keys")
DAY = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _latest_migrations_again():
    """Going back to BEFORE also unapplied every later migration that depends on it (the connectors' tables):
    leave the test database with all of them, as the other tests expect."""
    yield
    migrate_to_latest()


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def _raw(amount: str, kind: str = "uncached_input_tokens") -> dict:
    return {
        "starting_at": "2026-10-01T00:00:00Z",
        "ending_at": "2026-10-02T00:00:00Z",
        "currency": "USD",
        "amount": amount,
        "workspace_id": "wrkspc_assistant",
        "model": "claude-sonnet-4-5-20250929",
        "cost_type": "tokens",
        "token_type": kind,
    }


def test_existing_double_counts_are_resolved_to_the_newest_line(world):
    organization = world.org("a")
    old_apps = _migrate(BEFORE)
    try:
        Invoice = old_apps.get_model("invoices", "ProviderInvoice")
        Line = old_apps.get_model("invoices", "InvoiceLine")
        Job = old_apps.get_model("invoices", "InvoiceIngestJob")
        invoice = Invoice._base_manager.create(
            organization_id=organization.pk,
            provider="anthropic",
            invoice_number="anthropic-cost-2026-10",
            billing_period=date(2026, 10, 1),
            currency="USD",
            total_nano=123_456_000_000 + 125_000_000_000 + 2_500_000_000,
            source_format="anthropic-cost-report",
            source_sha256="0" * 64,
        )
        jobs = [
            Job._base_manager.create(
                organization_id=organization.pk,
                channel="command",
                format="anthropic-cost-report",
                file_name=name,
                payload=name,
                sha256=str(n) * 64,
                size_bytes=1,
            )
            for n, name in enumerate(("first.json", "second.json"), start=1)
        ]

        def line(job, amount_nano, raw, key):
            return Line._base_manager.create(
                organization_id=organization.pk,
                invoice_id=invoice.pk,
                job_id=job.pk,
                billing_period=date(2026, 10, 1),
                charge_period_start=DAY,
                charge_period_end=DAY.replace(day=2),
                provider="anthropic",
                model="claude-sonnet-4-5",
                cost_source="input",
                amount_nano=amount_nano,
                currency="USD",
                raw=raw,
                line_key=key,
            )

        line(jobs[0], 123_456_000_000, _raw("12345.6"), "a" * 64)
        line(jobs[0], 2_500_000_000, _raw("250", "output_tokens"), "b" * 64)
        line(jobs[1], 125_000_000_000, _raw("12500"), "c" * 64)  # the same bucket re-pulled: counted twice
    finally:
        _migrate(AFTER)

    with scope(organization=organization):
        invoice = ProviderInvoice.objects.get()
        assert invoice.total_nano == 127_500_000_000  # 125.00 + 2.50, no longer + 123.456
        lines = dict(InvoiceLine.objects.values_list("line_key", "bucket_key"))
        [restated] = InvoiceLineRestatement.objects.all()
    input_key = bucket_key_of(
        "anthropic-cost-report", "anthropic", "anthropic-cost-2026-10", date(2026, 10, 1), _raw("x")
    )
    assert set(lines) == {"b" * 64, "c" * 64}
    assert lines["c" * 64] == input_key
    assert lines["b" * 64] not in (None, input_key)
    assert (restated.line_key, restated.bucket_key, restated.amount_nano, restated.new_amount_nano) == (
        "a" * 64,
        input_key,
        123_456_000_000,
        125_000_000_000,
    )
    assert (restated.job.file_name, restated.superseded_by_job.file_name) == ("first.json", "second.json")
