"""Issue 13, items 2 and 3 for invoices: amounts that cannot fit are refused per line, every file ends
in a terminal state, implausible dates and over-long CSV fields are row errors."""

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.core.ceilings import MAX_SUM
from apps.invoices.models import InvoiceIngestJob, InvoiceLine, ProviderInvoice
from apps.invoices.services import ingest as ingest_service

from .conftest import FIXTURES, ingest

pytestmark = pytest.mark.django_db

HEADER = "provider,invoice_number,date,description,model,cost_source,amount,currency,quantity\n"


def generic(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def row(amount="10.00", date="2026-10-05", quantity="", number="MIS-1") -> str:
    return f"mistral,{number},{date},Mistral Large input,mistral-large-2411,input,{amount},EUR,{quantity}"


def errors_of(job, org) -> list[tuple]:
    with scope(organization=org):
        return list(job.errors.order_by("line", "id").values_list("line", "field", "message"))


def test_an_amount_beyond_the_line_ceiling_is_refused_and_the_rest_kept(world, models_catalog):
    org = world.org("a")
    job = ingest(org, generic(row("10.00"), row("1E+18"), row("-1000000000.01"), row("1000000000")), file_name="g.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 2, 2)
    assert errors_of(job, org) == [
        (3, "amount", "is 1000000000000000000, beyond the ceiling of 1,000,000,000 currency units per row"),
        (4, "amount", "is -1000000000.01, beyond the ceiling of 1,000,000,000 currency units per row"),
    ]
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("1000000010")


def test_a_quantity_beyond_the_ceiling_is_refused(world, models_catalog):
    """A quantity with more than 20 integer digits used to fail the whole file on PostgreSQL."""
    org = world.org("a")
    job = ingest(org, generic(row(quantity="1E+25"), row(quantity="4115226")), file_name="g.csv")
    assert (job.accepted, job.rejected) == (1, 1)
    assert errors_of(job, org) == [
        (2, "quantity", "is 10000000000000000000000000, beyond the ceiling of 1,000,000,000,000,000 units per row")
    ]
    with scope(organization=org):
        assert InvoiceLine.objects.get().quantity == Decimal("4115226")


def test_a_line_that_would_overflow_its_invoice_total_is_refused(world, models_catalog):
    """Ten lines each under the ceiling can sum past a 64-bit total: the tenth is refused, the invoice
    keeps the exact sum of the nine."""
    org = world.org("a")
    rows = [row("999999999", date=f"2026-10-{day:02d}") for day in range(1, 11)]
    job = ingest(org, generic(*rows), file_name="g.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 9, 1)
    assert errors_of(job, org) == [
        (
            11,
            "amount",
            "adding it would take the total of invoice MIS-1 for 2026-10 beyond the largest sum that can be "
            f"stored ({MAX_SUM:,} nano-units); the line is refused",
        )
    ]
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
        assert invoice.total_nano == 9 * 999_999_999 * 10**9
    # A later file adding to the same invoice is checked against the stored total.
    again = ingest(org, generic(row("999999999", date="2026-10-20")), file_name="g2.csv")
    assert (again.status, again.accepted, again.rejected) == ("succeeded", 0, 1)


def test_a_file_whose_charges_cannot_be_summed_is_refused_line_by_line(world, models_catalog):
    """Two invoices of five lines each fit one by one, but the file's lines together would not (the
    late-data and reconciliation sums read them together): the tenth line is refused."""
    org = world.org("a")
    rows = [row("999999999", date=f"2026-10-{day:02d}", number=f"MIS-{day % 2}") for day in range(1, 11)]
    job = ingest(org, generic(*rows), file_name="g.csv")
    assert (job.accepted, job.rejected) == (9, 1)
    assert errors_of(job, org) == [
        (
            11,
            "amount",
            f"adding it would take this file's charges beyond the largest sum that can be stored ({MAX_SUM:,} "
            "nano-units); the line is refused",
        )
    ]


def test_credits_count_by_their_size_so_no_partial_sum_overflows(world, models_catalog):
    org = world.org("a")
    rows = [row(amount, date=f"2026-10-{day:02d}") for day, amount in enumerate(["999999999", "-999999999"] * 5, 1)]
    job = ingest(org, generic(*rows), file_name="g.csv")
    assert (job.accepted, job.rejected) == (9, 1)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total_nano == 999_999_999 * 10**9


def test_a_date_of_9999_12_31_is_a_row_error_not_a_crash(world, models_catalog):
    org = world.org("a")
    job = ingest(org, generic(row(date="9999-12-31"), row(date="2014-06-30"), row()), file_name="g.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 1, 2)
    assert [(line, field) for line, field, _ in errors_of(job, org)] == [(2, "date"), (3, "date")]
    assert errors_of(job, org)[1][2] == "is 2014-06-30, before 2015-01-01, the earliest date accepted"


def test_focus_timestamps_outside_the_window_are_row_errors(world, models_catalog):
    org = world.org("a")
    text = (FIXTURES / "focus_1_2_aws.csv").read_text()
    header, first, *rest = text.splitlines()
    bad = first.replace("2026-10-02T00:00:00Z", "9999-12-31T00:00:00Z", 1)
    job = ingest(org, "\n".join([header, bad, *rest]).encode() + b"\n", file_name="focus.csv")
    assert job.status == "succeeded" and job.rejected == 1
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (2, "ChargePeriodEnd")
    assert message == "is 9999-12-31 00:00 UTC, more than 24 hours ahead of now"
    assert job.accepted == len(rest)


def test_a_csv_field_over_128_kb_is_a_row_error(world, models_catalog):
    """It used to leave the job queued for ever (and answer 500 with eager tasks)."""
    org = world.org("a")
    text = (FIXTURES / "focus_1_2_aws.csv").read_text()
    header, first, *rest = text.splitlines()
    huge = first.replace("Claude Sonnet 4.5 input tokens", "x" * 140_000, 1)
    job = ingest(org, "\n".join([header, huge, *rest]).encode() + b"\n", file_name="focus.csv")
    assert (job.status, job.rejected, job.accepted) == ("succeeded", 1, len(rest))
    assert errors_of(job, org) == [(2, "(row)", "a field is longer than 131,072 characters; the row is refused")]


def test_json_amounts_are_bounded_after_unit_conversion(world, models_catalog):
    org = world.org("a")
    pages = json.loads((FIXTURES / "openai_costs_pages.json").read_text())
    pages[0]["data"][0]["results"][0]["amount"]["value"] = 10**10
    job = ingest(org, json.dumps(pages).encode(), file_name="openai.json")
    assert job.status == "succeeded" and job.rejected == 1
    [(line, field, message)] = errors_of(job, org)
    assert (line, field) == (1, "amount.value") and message.startswith("is 10000000000, beyond the ceiling")


def test_any_error_while_reading_ends_the_job_failed_with_a_message(world, models_catalog, monkeypatch):
    """An exception outside the row checks used to leave the job "queued" for ever."""
    org = world.org("a")

    def broken_reader(name):
        def read(stream, **kwargs):
            yield from ()
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

        return read

    monkeypatch.setattr(ingest_service, "reader_for", broken_reader)
    with pytest.raises(UnicodeDecodeError):
        ingest(org, generic(row()), file_name="g.csv")
    with scope(organization=org):
        job = InvoiceIngestJob.objects.get()
        assert job.status == "failed"
        assert job.error_message == (
            "the file could not be read, nothing was stored: the file is not valid UTF-8 (byte 0 of a block)"
        )
        assert not InvoiceLine.objects.exists()


def test_through_the_api_a_140_kb_field_and_a_year_9999_date_end_in_a_finished_job(
    world, models_catalog, django_capture_on_commit_callbacks
):
    """The issue's example: an invoice field over 128 KB answered 500 and left the job queued."""
    from django.urls import reverse

    from apps.tenancy.roles import TokenScope

    api = world.api("a", [TokenScope.INVOICES_WRITE])
    body = generic(row(), row(number="x" * 140_000), row(date="9999-12-31"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:invoice-list"), data=body, content_type="text/csv")
    assert response.status_code in (201, 202)
    job = api.get(response["Location"]).json()
    assert job["status"] == "succeeded"
    assert job["result"]["rejected"] == 2
    assert [(e["line"], e["field"]) for e in job["result"]["errors"]] == [(3, "(row)"), (4, "date")]
