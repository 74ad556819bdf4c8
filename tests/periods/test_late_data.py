"""Late data: a real usage ingest and a real invoice ingest for a period past open are kept and flagged."""

import io
import json

import pytest
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.invoices.models import InvoiceIngestJob, InvoiceLine
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_run
from apps.periods.late_data import late_arrivals, late_data_for
from apps.periods.models import BillingPeriod, LateArrival
from apps.usage.models import IngestJob, UsageRecord
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from apps.usage.services.late_data import flag_late_usage
from tests.factories.periods import BillingPeriodFactory
from tests.scenarios import OCT, TO_CLOSED, chargeback, reconciled, step, walk

pytestmark = pytest.mark.django_db


def usage_event(request_id: str, day: str) -> bytes:
    return (
        json.dumps(
            {
                "request_id": request_id,
                "occurred_at": f"{day}T10:00:00Z",
                "provider": "openai",
                "model": "gpt-4o",
                "tags": {"team": "search"},
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            }
        ).encode()
        + b"\n"
    )


def ingest_usage(organization, *events: bytes) -> IngestJob:
    job, _ = ingest_job_create(
        organization=organization,
        actor=None,
        file_name="late.ndjson",
        stream=io.BytesIO(b"".join(events)),
        format="ndjson",
        channel="command",
        enqueue=False,
    )
    return ingest_job_run(job_id=job.pk)


GENERIC = (
    "provider,invoice_number,date,description,model,cost_source,amount,currency\n"
    "openai,INV-LATE-1,2026-10-05,GPT-4o input,gpt-4o,input,12.50,USD\n"
    "openai,INV-LATE-1,2026-10-06,GPT-4o output,gpt-4o,output,2.50,USD\n"
    "openai,INV-NOV-1,2026-11-02,GPT-4o input,gpt-4o,input,4.00,USD\n"
)


def ingest_invoice(organization, body: str = GENERIC) -> InvoiceIngestJob:
    job, _ = invoice_ingest_create(
        organization=organization,
        actor=None,
        file_name="late.csv",
        stream=io.BytesIO(body.encode()),
        format="csv",
        channel=InvoiceIngestJob.Channel.COMMAND,
        enqueue=False,
    )
    return invoice_ingest_run(job_id=job.pk)


@pytest.fixture
def reconciling(world, price_book):
    chargeback(world.org("a"))
    reconciled(world.org("a"))
    return walk(world, "start_reconciliation")


def late_events(organization):
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action="billing_period.late_data").order_by("seq"))


def test_usage_arriving_for_a_period_past_open_is_kept_and_flagged_with_what_arrived(world, reconciling):
    organization = world.org("a")
    job = ingest_usage(
        organization,
        usage_event("r1", "2026-10-30"),
        usage_event("r2", "2026-10-31"),
        usage_event("r3", "2026-11-02"),  # November is not past open (it has no period row): not late
    )
    assert (job.status, job.accepted) == ("succeeded", 3)
    with scope(organization=organization):
        assert UsageRecord.objects.count() == 3  # kept
        arrival = LateArrival.objects.get()
        billing_period = BillingPeriod.objects.get(period=OCT)
        summary = late_data_for(organization=organization, billing_periods=[billing_period])[billing_period.pk]
    # gpt-4o: 1,000 x $2.50/M + 100 x $10/M = $0.0035 a request
    assert (arrival.kind, arrival.job_id, arrival.rows, arrival.amount_nano, arrival.currency) == (
        "usage",
        job.pk,
        2,
        7_000_000,
        "USD",
    )
    assert (arrival.state_at_arrival, arrival.version, arrival.file_name) == ("reconciling", 1, "late.ndjson")
    assert arrival.detail == {"providers": ["openai"], "days": ["2026-10-30", "2026-10-31"]}
    assert (summary.usage_rows, summary.invoice_lines, summary.usage_nano) == (2, 0, 7_000_000)
    assert summary.usage_amounts == (("USD", 7_000_000),)
    assert summary.first_at == arrival.first_at and summary.last_at == arrival.last_at
    [event] = late_events(organization)
    assert (event.actor_label, event.object_id, event.before) == ("system", str(billing_period.pk), None)
    assert event.after == {
        "period": "2026-10",
        "state": "reconciling",
        "kind": "usage",
        "job": job.pk,
        "file_name": "late.ndjson",
        "rows": 2,
        "amount_nano": 7_000_000,
        "currency": "USD",
        "providers": ["openai"],
        "days": ["2026-10-30", "2026-10-31"],
    }


def test_flagging_the_same_job_again_changes_nothing(world, reconciling):
    job = ingest_usage(world.org("a"), usage_event("r1", "2026-10-30"))
    flag_late_usage(job=job)
    with scope(organization=world.org("a")):
        assert LateArrival.objects.get().rows == 1
    assert len(late_events(world.org("a"))) == 1


def test_usage_for_an_open_period_is_not_late(world, price_book):
    reconciled(world.org("a"))
    ingest_usage(world.org("a"), usage_event("r1", "2026-10-30"))
    BillingPeriodFactory(organization=world.org("a"), period=OCT)  # open
    ingest_usage(world.org("a"), usage_event("r2", "2026-10-30"))
    with scope(organization=world.org("a")):
        assert not LateArrival.objects.exists()
    assert late_events(world.org("a")) == []


def test_invoice_lines_for_a_closed_period_are_kept_and_flagged_by_billing_month(world, reconciling):
    organization = world.org("a")
    for name in TO_CLOSED[1:]:
        step(world, name)
    job = ingest_invoice(organization)
    assert job.status == "succeeded"
    with scope(organization=organization):
        assert InvoiceLine.objects.filter(job=job).count() == 3
        arrival = LateArrival.objects.get()
        billing_period = BillingPeriod.objects.get(period=OCT)
    assert (arrival.kind, arrival.rows, arrival.amount_nano, arrival.state_at_arrival) == (
        "invoices",
        2,
        15_000_000_000,
        "closed",
    )
    assert arrival.detail == {"invoices": ["openai INV-LATE-1"]}
    with scope(organization=organization):
        summary = late_data_for(organization=organization, billing_periods=[billing_period])[billing_period.pk]
    assert (summary.usage_rows, summary.invoice_lines, summary.invoice_nano) == (0, 2, 15_000_000_000)
    # Ingesting the same file again stores nothing new and flags nothing new.
    again = ingest_invoice(organization)
    assert (again.accepted, again.duplicates) == (0, 3)
    assert len(late_events(organization)) == 1


def test_a_reopen_retires_the_flag_and_the_next_version_flags_afresh(world, reconciling):
    organization = world.org("a")
    for name in TO_CLOSED[1:]:
        step(world, name)
    ingest_usage(organization, usage_event("r1", "2026-10-30"))
    billing_period = step(world, "reopen", reason="late usage from the gateway")
    with scope(organization=organization):
        assert late_data_for(organization=organization, billing_periods=[billing_period]) == {}
        assert list(late_arrivals(billing_period=billing_period)) == []
        assert LateArrival.objects.count() == 1  # history kept
    ingest_usage(organization, usage_event("r2", "2026-10-30"))  # open again: not late
    walk(world, "start_reconciliation")
    ingest_usage(organization, usage_event("r3", "2026-10-31"))
    with scope(organization=organization):
        billing_period.refresh_from_db()
        assert [(a.version, a.rows) for a in late_arrivals(billing_period=billing_period)] == [(2, 1)]


def test_a_fiscal_start_day_assigns_late_usage_by_the_periods_days(world, reconciling):
    organization = world.org("a")
    type(organization).objects.filter(pk=organization.pk).update(period_start_day=5)
    organization.refresh_from_db()
    ingest_usage(organization, usage_event("r1", "2026-10-03"), usage_event("r2", "2026-11-04"))
    with scope(organization=organization):
        arrival = LateArrival.objects.get()
    # 3 October belongs to September's period (no row, so not late); 4 November to October's.
    assert (arrival.rows, arrival.detail["days"]) == (1, ["2026-11-04", "2026-11-04"])


def test_late_usage_is_flagged_per_currency_and_a_replaced_bucket_with_its_change(world, reconciling):
    from apps.usage.services.ingest import ingest_job_create as create
    from tests.usage.test_currency import EURO_EVENT_NANO, euro_event, make_euro_model
    from tests.usage.test_repulls import openai_page

    organization = world.org("a")
    make_euro_model()
    euro = json.dumps({**euro_event("eu-late"), "occurred_at": "2026-10-30T10:00:00Z"}).encode() + b"\n"
    job = ingest_usage(organization, usage_event("r1", "2026-10-30"), euro)
    assert (job.accepted, job.currency, job.estimated_nano) == (2, "", 0)  # two currencies: never one sum
    assert job.estimated_by_currency == {"EUR": EURO_EVENT_NANO, "USD": 3_500_000}
    with scope(organization=organization):
        arrivals = list(LateArrival.objects.order_by("currency").values_list("currency", "rows", "amount_nano"))
        billing_period = BillingPeriod.objects.get(period=OCT)
        summary = late_data_for(organization=organization, billing_periods=[billing_period])[billing_period.pk]
    assert arrivals == [("EUR", 1, EURO_EVENT_NANO), ("USD", 1, 3_500_000)]
    assert (summary.usage_rows, summary.usage_amounts, summary.usage_nano) == (
        2,
        (("EUR", EURO_EVENT_NANO), ("USD", 3_500_000)),
        None,
    )

    def pull(body: bytes) -> IngestJob:
        created, _ = create(
            organization=organization,
            actor=None,
            file_name="openai-usage.json",
            stream=io.BytesIO(body),
            format="openai-usage",
            channel="command",
            enqueue=False,
        )
        return ingest_job_run(job_id=created.pk)

    first = pull(openai_page(1_000_000))
    repull = pull(openai_page(1_200_000))
    assert (repull.replaced, repull.estimated_nano) == (1, 500_000_000)
    with scope(organization=organization):
        flagged = {
            job_id: (rows, amount)
            for job_id, rows, amount in LateArrival.objects.filter(job_id__in=[first.pk, repull.pk]).values_list(
                "job_id", "rows", "amount_nano"
            )
        }
    # The first pull arrived whole (4.500000000); the re-pull arrived as its change (0.500000000).
    assert flagged == {first.pk: (1, 4_500_000_000), repull.pk: (1, 500_000_000)}
