"""Pulling provider reports from a loopback server that answers in the providers' documented shapes: pages
followed through next_page, a 429 waited out for its Retry-After, a restated day replaced (never counted twice),
the same pages pulled again adding nothing, and refusals recorded with their reason (never the key).

Figures by hand: gpt-4o lists 2.50 USD per million input and 10.00 per million output tokens (as in
tests/usage/test_repulls.py), so a day of 1,000,000 input and 200,000 output tokens is 4.50 USD and 1,200,000
input tokens is 5.00 USD. Costs are the amounts the pages say (Anthropic's in cents)."""

import json
import time
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.connectors.models import ConnectorPull, PullStatus
from apps.connectors.services import connection_create, connection_pull
from apps.invoices.models import InvoiceLine, InvoiceLineRestatement, ProviderInvoice
from apps.usage.models import DailyUsage

pytestmark = pytest.mark.django_db

OPENAI_KEY = "sk-admin-test-0001-abcdefghijklmnop"
ANTHROPIC_KEY = "sk-ant-admin01-test-qrstuvwxyz-0002"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)
COMPLETIONS = "/v1/organization/usage/completions"
EMBEDDINGS = "/v1/organization/usage/embeddings"
COSTS = "/v1/organization/costs"
MESSAGES = "/v1/organizations/usage_report/messages"
COST_REPORT = "/v1/organizations/cost_report"


def ts(day: int) -> int:
    return int(datetime(2026, 12, day, tzinfo=UTC).timestamp())


def usage_bucket(day: int, input_tokens: int) -> dict:
    result = {
        "object": "organization.usage.completions.result",
        "input_tokens": input_tokens,
        "output_tokens": 200_000,
        "input_cached_tokens": 0,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "num_model_requests": 100,
        "project_id": "proj_search",
        "user_id": None,
        "api_key_id": "key_abc",
        "model": "gpt-4o-2024-08-06",
        "batch": False,
        "service_tier": "default",
    }
    return {"object": "bucket", "start_time": ts(day), "end_time": ts(day + 1), "results": [result]}


def cost_bucket(day: int, value: str) -> dict:
    result = {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": "usd"},
        "line_item": "gpt-4o-2024-08-06, input",
        "project_id": "proj_search",
    }
    return {"object": "bucket", "start_time": ts(day), "end_time": ts(day + 1), "results": [result]}


def serve_openai(fake, *, dec6_input: int, dec6_cost: str, throttle: bool = False) -> None:
    fake.auth = {"Authorization": f"Bearer {OPENAI_KEY}"}
    fake.set_report(COMPLETIONS, [[usage_bucket(5, 1_000_000)], [usage_bucket(6, dec6_input)]], openai=True)
    empty = {"object": "bucket", "start_time": ts(5), "end_time": ts(6), "results": []}
    fake.set_report(EMBEDDINGS, [[empty]], openai=True)
    fake.set_report(COSTS, [[cost_bucket(5, "2.50")], [cost_bucket(6, dec6_cost)]], openai=True)
    if throttle:
        fake.throttle[(COSTS, 1)] = "7"


def _json_number(fake):
    """The costs pages carry amounts as JSON numbers, as the API sends them (not strings)."""
    for page in fake.pages[COSTS]:
        for bucket in page["data"]:
            for result in bucket["results"]:
                result["amount"]["value"] = float(result["amount"]["value"])


def openai_connection(world):
    with scope(organization=world.org("a")):
        return connection_create(
            organization=world.org("a"), actor=world.user("a"), provider="openai", label="OpenAI prod",
            api_key=OPENAI_KEY,
        )  # fmt: skip


def pull(connection, now, trigger=ConnectorPull.Trigger.SCHEDULE) -> ConnectorPull:
    """A pull, with the ingest jobs it queued run as their transactions commit (eager tasks), and the pull read
    back with its jobs as they finished."""
    with scope(organization=connection.organization):
        connection.refresh_from_db()
        with TestCase.captureOnCommitCallbacks(execute=True):
            done = connection_pull(connection=connection, trigger=trigger, now=now)
        return ConnectorPull.objects.select_related("usage_job", "invoice_job").get(pk=done.pk)


def daily(org) -> dict:
    with scope(organization=org):
        return {
            row.day: (row.records, row.input_tokens, row.output_tokens, row.estimated_nano)
            for row in DailyUsage.objects.filter(organization=org, provider="openai")
        }


def invoice_of(org) -> tuple:
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get(organization=org, provider="openai")
        lines = sorted(InvoiceLine.objects.filter(invoice=invoice).values_list("charge_period_start", "amount_nano"))
        return invoice.invoice_number, invoice.total_nano, [(start.day, amount) for start, amount in lines]


def test_a_pull_follows_the_pages_waits_out_a_429_and_stores_usage_and_costs(world, price_book, fake_provider, waits):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50", throttle=True)
    _json_number(fake_provider)
    connection = openai_connection(world)
    org = world.org("a")

    started = time.monotonic()
    first = pull(connection, NOW)
    elapsed = time.monotonic() - started

    assert first.status == PullStatus.SUCCEEDED, first.error_message
    # completions: 2 pages; embeddings: 1 (no results: nothing to ingest); costs: 2 pages, the second after a 429.
    assert (first.requests, first.pages, first.results, first.rate_limited) == (6, 5, 4, 1)
    assert waits == [7.0]  # what Retry-After said, waited once, then the same page asked again
    assert [r["query"].get("page") for r in fake_provider.asked(COSTS)] == [None, ["cursor-1"], ["cursor-1"]]
    asked = fake_provider.asked(COMPLETIONS)
    assert [r["query"].get("page") for r in asked] == [None, ["cursor-1"]]
    # The window: CONNECTOR_BACKFILL_DAYS (31) back from the end of today, in Unix seconds, daily buckets.
    query = asked[0]["query"]
    assert query["start_time"] == [str(int(datetime(2026, 11, 7, tzinfo=UTC).timestamp()))]
    assert query["end_time"] == [str(ts(8))]
    assert query["bucket_width"] == ["1d"] and query["limit"] == ["31"]
    assert query["group_by[]"] == ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
    assert fake_provider.asked(COSTS)[0]["query"]["group_by[]"] == ["project_id", "line_item"]

    # The same jobs as an upload, channel "connector".
    with scope(organization=org):
        usage_job, invoice_job = first.usage_job, first.invoice_job
    assert (usage_job.channel, usage_job.format, usage_job.status) == ("connector", "openai-usage", "succeeded")
    assert (usage_job.accepted, usage_job.duplicates, usage_job.replaced, usage_job.rejected) == (2, 0, 0, 0)
    assert (invoice_job.channel, invoice_job.format, invoice_job.status) == ("connector", "openai-costs", "succeeded")
    assert (invoice_job.accepted, invoice_job.restated, invoice_job.rejected) == (2, 0, 0)
    assert daily(org) == {
        date(2026, 12, 5): (1, 1_000_000, 200_000, 4_500_000_000),
        date(2026, 12, 6): (1, 1_000_000, 200_000, 4_500_000_000),
    }
    assert invoice_of(org) == ("openai-costs-2026-12", 5_000_000_000, [(5, 2_500_000_000), (6, 2_500_000_000)])

    with scope(organization=org):
        connection.refresh_from_db()
    assert connection.last_pull_status == PullStatus.SUCCEEDED
    assert connection.pulled_through == datetime(2026, 12, 8, tzinfo=UTC)
    print(
        f"\nconnector pull (OpenAI): {first.requests} requests, {first.pages} pages, {first.results} results, "
        f"{first.rate_limited} 429 waited out, {elapsed:.3f} s with both ingest jobs"
    )


def test_a_restated_day_inside_the_window_replaces_what_was_stored_and_a_same_pull_adds_nothing(
    world, price_book, fake_provider
):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
    connection = openai_connection(world)
    org = world.org("a")
    first = pull(connection, NOW)
    assert first.status == PullStatus.SUCCEEDED, first.error_message

    # An hour later the provider restates 6 December: more tokens, a larger cost.
    serve_openai(fake_provider, dec6_input=1_200_000, dec6_cost="3.00")
    fake_provider.requests.clear()
    second = pull(connection, LATER)
    assert second.status == PullStatus.SUCCEEDED, second.error_message
    # Re-pull window 3 days: from 5 December (the end of the last pull, 8 December, less 3 days).
    assert fake_provider.asked(COMPLETIONS)[0]["query"]["start_time"] == [str(ts(5))]
    assert (second.window_start, second.window_end) == (
        datetime(2026, 12, 5, tzinfo=UTC),
        datetime(2026, 12, 8, tzinfo=UTC),
    )
    with scope(organization=org):
        usage_job, invoice_job = second.usage_job, second.invoice_job
    assert (usage_job.accepted, usage_job.duplicates, usage_job.replaced) == (0, 1, 1)
    assert (invoice_job.accepted, invoice_job.duplicates, invoice_job.restated) == (1, 1, 1)
    # Replaced, not added: one record a day, 6 December at the restated figures (5.00 USD).
    assert daily(org) == {
        date(2026, 12, 5): (1, 1_000_000, 200_000, 4_500_000_000),
        date(2026, 12, 6): (1, 1_200_000, 200_000, 5_000_000_000),
    }
    assert invoice_of(org) == ("openai-costs-2026-12", 5_500_000_000, [(5, 2_500_000_000), (6, 3_000_000_000)])
    with scope(organization=org):
        restated = list(InvoiceLineRestatement.objects.values_list("amount_nano", "new_amount_nano"))
    assert restated == [(2_500_000_000, 3_000_000_000)]

    # The same pages again: the same body, so the ingest answers with the earlier jobs; nothing changes.
    third = pull(connection, datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    assert third.status == PullStatus.SUCCEEDED
    assert (third.usage_job_id, third.invoice_job_id) == (second.usage_job_id, second.invoice_job_id)
    assert daily(org)[date(2026, 12, 6)] == (1, 1_200_000, 200_000, 5_000_000_000)
    assert invoice_of(org)[1] == 5_500_000_000


def test_anthropic_reports_are_read_with_the_admin_key_headers_and_cents(world, price_book, fake_provider):
    fake_provider.auth = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    usage = {
        "uncached_input_tokens": 1_000_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": 100_000,
        "server_tool_use": {"web_search_requests": 0},
        "model": "claude-sonnet-4-5-20250929",
        "workspace_id": "wrkspc_assistant",
        "api_key_id": None,
        "service_tier": "standard",
        "context_window": "0-200k",
    }
    fake_provider.set_report(
        MESSAGES,
        [[{"starting_at": "2026-12-05T00:00:00Z", "ending_at": "2026-12-06T00:00:00Z", "results": [usage]}]],
        openai=False,
    )

    def cost(day: int, cents: str, token_type: str) -> dict:
        result = {
            "currency": "USD", "amount": cents, "workspace_id": "wrkspc_assistant",
            "description": "Claude Sonnet 4.5 Usage", "cost_type": "tokens", "context_window": "0-200k",
            "model": "claude-sonnet-4-5-20250929", "service_tier": "standard", "token_type": token_type,
        }  # fmt: skip
        return {
            "starting_at": f"2026-12-0{day}T00:00:00Z",
            "ending_at": f"2026-12-0{day + 1}T00:00:00Z",
            "results": [result],
        }

    fake_provider.set_report(
        COST_REPORT, [[cost(5, "300.0", "uncached_input_tokens")], [cost(5, "150", "output_tokens")]], openai=False
    )
    org = world.org("a")
    with scope(organization=org):
        connection = connection_create(
            organization=org, actor=None, provider="anthropic", label="Anthropic", api_key=ANTHROPIC_KEY
        )
    done = pull(connection, NOW)
    assert done.status == PullStatus.SUCCEEDED, done.error_message
    assert (done.requests, done.pages, done.results) == (3, 3, 3)
    query = fake_provider.asked(MESSAGES)[0]["query"]
    assert query["starting_at"] == ["2026-11-07T00:00:00Z"] and query["ending_at"] == ["2026-12-08T00:00:00Z"]
    assert query["group_by[]"] == ["model", "workspace_id", "api_key_id", "service_tier", "context_window"]
    assert [r["query"].get("page") for r in fake_provider.asked(COST_REPORT)] == [None, ["cursor-1"]]
    with scope(organization=org):
        assert (done.usage_job.format, done.usage_job.accepted) == ("anthropic-usage", 1)
        cell = DailyUsage.objects.get(organization=org, provider="anthropic")
        invoice = ProviderInvoice.objects.get(organization=org, provider="anthropic")
    assert (cell.day, cell.records, cell.input_tokens, cell.output_tokens) == (date(2026, 12, 5), 1, 1_000_000, 100_000)
    # 300.0 cents + 150 cents = 4.50 USD.
    assert (invoice.invoice_number, invoice.total_nano, invoice.currency) == (
        "anthropic-cost-2026-12",
        4_500_000_000,
        "USD",
    )


def test_refused_credentials_fail_the_pull_with_the_reason_and_keep_the_window(world, fake_provider):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
    fake_provider.auth = {"Authorization": "Bearer another-key"}
    connection = openai_connection(world)
    org = world.org("a")
    failed = pull(connection, NOW)
    assert failed.status == PullStatus.FAILED
    assert failed.error_message == "The provider answered 401 and refused the credentials: invalid x."
    assert (failed.usage_job_id, failed.invoice_job_id) == (None, None)
    with scope(organization=org):
        connection.refresh_from_db()
        events = list(AuditEvent.objects.filter(organization=org).values("action", "before", "after"))
    assert (connection.last_pull_status, connection.pulled_through) == (PullStatus.FAILED, None)
    assert connection.last_pull_error == failed.error_message
    assert [e["action"] for e in events] == ["connector.created", "connector.pull_failed"]
    # Never the key: not in the audit trail, not in the stored column, not in the error.
    assert OPENAI_KEY not in json.dumps(events) and OPENAI_KEY[-12:] not in json.dumps(events)
    assert OPENAI_KEY not in connection.credentials_encrypted and OPENAI_KEY not in failed.error_message


def test_a_pull_refuses_while_another_pull_of_the_connection_runs(world, fake_provider):
    connection = openai_connection(world)
    with scope(organization=connection.organization):
        connection.last_pull_status = PullStatus.RUNNING
        connection.last_pull_started_at = datetime(2026, 12, 7, 11, 50, tzinfo=UTC)
        connection.save()
        with pytest.raises(ValidationError, match="is running"):
            connection_pull(connection=connection, trigger="manual", now=NOW)
        died = ConnectorPull.objects.create(
            organization=connection.organization,
            connection=connection,
            trigger="schedule",
            window_start=datetime(2026, 12, 1, tzinfo=UTC),
            window_end=datetime(2026, 12, 8, tzinfo=UTC),
        )
        # A pull "running" for longer than CONNECTOR_PULL_STALE_MINUTES (its worker died) no longer blocks, and
        # is ended as failed by the next one.
        serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
        later = connection_pull(connection=connection, trigger="manual", now=datetime(2026, 12, 7, 12, 30, tzinfo=UTC))
        died.refresh_from_db()
    assert later.status == PullStatus.SUCCEEDED
    assert died.status == PullStatus.FAILED and "stopped before it ended" in died.error_message
