"""Re-pulled cost reports restate their buckets; identical rows of one file are separate charges (issue 15)."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.invoices.models import InvoiceLine, InvoiceLineRestatement, ProviderInvoice
from apps.invoices.parsers.generic import read_generic_csv
from apps.invoices.selectors import invoice_line_totals, invoice_totals_by_currency
from apps.invoices.services.ingest import invoice_ingest_summary
from apps.periods.models import BillingPeriod, LateArrival
from apps.tenancy.roles import Role, TokenScope
from tests.factories.periods import BillingPeriodFactory

from .conftest import ingest

pytestmark = pytest.mark.django_db


def anthropic_report(amount: str, *, model: str = "claude-sonnet-4-5-20250929", extra: tuple = ()) -> bytes:
    result = {
        "currency": "USD",
        "amount": amount,
        "workspace_id": "wrkspc_assistant",
        "description": "Claude Sonnet 4.5 Usage - Input Tokens",
        "cost_type": "tokens",
        "context_window": "0-200k",
        "model": model,
        "service_tier": "standard",
        "token_type": "uncached_input_tokens",
    }
    bucket = {"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-10-02T00:00:00Z", "results": [result, *extra]}
    return json.dumps({"data": [bucket], "has_more": False, "next_page": None}).encode()


def openai_costs(value: str) -> bytes:
    # 1790812800 = 2026-10-01T00:00:00Z. The amount is written as the JSON number the API sends.
    return (
        '{"object": "page", "data": [{"object": "bucket", "start_time": 1790812800, "end_time": 1790899200, '
        '"results": [{"object": "organization.costs.result", "amount": {"value": ' + value + ', "currency": "usd"}, '
        '"line_item": "gpt-4o-2024-08-06, input", "project_id": "proj_search"}]}], "has_more": false}'
    ).encode()


def restated_events(organization):
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action="invoice.line_restated").order_by("seq"))


def test_a_repulled_anthropic_bucket_with_another_amount_supersedes_the_earlier_line(world, models_catalog):
    org = world.org("a")
    first = ingest(org, anthropic_report("12345.6"), file_name="cost-1.json")  # cents: 123.456 USD
    second = ingest(org, anthropic_report("12500"), file_name="cost-2.json")  # 125.00 USD
    assert (first.accepted, first.restated) == (1, 0)
    assert (second.accepted, second.duplicates, second.restated, second.rejected) == (1, 0, 1, 0)
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
        [line] = InvoiceLine.objects.all()
        [old] = InvoiceLineRestatement.objects.all()
        assert line.amount == Decimal("125.000000000") and line.job_id == second.pk
        assert (old.amount, old.new_amount, old.delta) == (Decimal("123.456"), Decimal("125"), Decimal("1.544"))
        assert (old.job_id, old.superseded_by_job_id, old.invoice_id) == (first.pk, second.pk, invoice.pk)
        assert (old.model, old.cost_source, old.bucket_key) == ("claude-sonnet-4-5", "input", line.bucket_key)
        assert old.raw["amount"] == "12345.6"
        assert invoice.total_nano == 125_000_000_000
        assert invoice_ingest_summary(job=second)["invoices"] == [
            {"provider": "anthropic", "billing_period": "2026-10", "total": "125.00", "currency": "USD", "lines": 1}
        ]
        assert invoice_ingest_summary(job=second)["restated"] == 1
    [event] = restated_events(org)
    assert event.object_id == str(invoice.pk)
    assert event.before == {"amount_nano": 123_456_000_000, "line_key": old.line_key, "job": first.pk}
    assert event.after["amount_nano"] == 125_000_000_000
    assert (event.after["job"], event.after["bucket_key"], event.after["day"]) == (
        second.pk,
        old.bucket_key,
        "2026-10-01",
    )

    # The latest report pulled again: nothing changes.
    third = ingest(org, anthropic_report("12500"), file_name="cost-3.json")
    assert (third.accepted, third.duplicates, third.restated) == (0, 1, 0)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total_nano == 125_000_000_000
        assert InvoiceLineRestatement.objects.count() == 1
    assert len(restated_events(org)) == 1


def test_a_repulled_openai_costs_bucket_with_another_amount_supersedes_the_earlier_line(world, models_catalog):
    org = world.org("a")
    first = ingest(org, openai_costs("10.00"), file_name="costs-1.json")
    second = ingest(org, openai_costs("12.50"), file_name="costs-2.json")
    assert (second.accepted, second.restated, second.duplicates) == (1, 1, 0)
    with scope(organization=org):
        [line] = InvoiceLine.objects.all()
        [old] = InvoiceLineRestatement.objects.all()
        assert (line.amount_nano, old.amount_nano, old.new_amount_nano) == (
            12_500_000_000,
            10_000_000_000,
            12_500_000_000,
        )
        assert (line.model, old.job_id) == ("gpt-4o", first.pk)
        assert ProviderInvoice.objects.get().total == Decimal("12.5")
    again = ingest(org, openai_costs("12.50"), file_name="costs-3.json")
    assert (again.accepted, again.duplicates, again.restated) == (0, 1, 0)
    # Back to the first figure (a provider correcting its correction): the latest pull is the truth again.
    back = ingest(org, openai_costs("10.00"), file_name="costs-4.json")
    assert (back.accepted, back.restated) == (1, 1)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total_nano == 10_000_000_000
        assert sorted(InvoiceLineRestatement.objects.values_list("amount_nano", "new_amount_nano")) == [
            (10_000_000_000, 12_500_000_000),
            (12_500_000_000, 10_000_000_000),
        ]


def test_other_buckets_of_a_repull_are_new_lines_beside_the_restated_one(world, models_catalog):
    org = world.org("a")
    ingest(org, anthropic_report("12345.6"))
    output = {
        "currency": "USD",
        "amount": "250",
        "workspace_id": "wrkspc_assistant",
        "description": "Claude Sonnet 4.5 Usage - Output Tokens",
        "cost_type": "tokens",
        "context_window": "0-200k",
        "model": "claude-sonnet-4-5-20250929",
        "service_tier": "standard",
        "token_type": "output_tokens",
    }
    job = ingest(org, anthropic_report("12500", extra=(output,)))
    assert (job.accepted, job.restated, job.duplicates) == (2, 1, 0)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total_nano == 127_500_000_000  # 125.00 + 2.50


def test_the_same_bucket_twice_in_one_file_keeps_the_later_row(world, models_catalog):
    org = world.org("a")
    page_1 = json.loads(anthropic_report("12345.6"))
    page_2 = json.loads(anthropic_report("12500"))
    job = ingest(org, (json.dumps(page_1) + "\n" + json.dumps(page_2) + "\n").encode(), file_name="pages.ndjson")
    assert (job.accepted, job.restated, job.rejected) == (1, 0, 1)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total_nano == 125_000_000_000
        [error] = job.errors.all()
    assert (error.line, error.field) == (1, "amount")
    assert (
        error.message
        == "the same bucket appears again at line 2 of this file with another amount; the later one is kept"
    )
    # The same page twice (an overlap of paging) is one charge.
    twice = ingest(
        world.org("b"), (json.dumps(page_2) + "\n" + json.dumps(page_2) + "\n").encode(), file_name="p.ndjson"
    )
    assert (twice.accepted, twice.duplicates, twice.rejected) == (1, 1, 0)


GENERIC = "provider,invoice_number,date,description,model,cost_source,amount,currency\n"
ROW = "mistral,MIS-2026-10,2026-10-05,Mistral Large input,mistral-large-2411,input,4.00,EUR\n"


def test_identical_rows_of_one_file_are_separate_charges(world):
    org = world.org("a")
    first = ingest(org, (GENERIC + ROW + ROW).encode(), file_name="bill.csv")
    assert (first.accepted, first.duplicates) == (2, 0)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("8.00")
        keys = list(InvoiceLine.objects.order_by("source_line").values_list("source_line", "line_key", "bucket_key"))
    assert [(line, bucket) for line, _, bucket in keys] == [(2, None), (3, None)]
    assert keys[0][1] != keys[1][1]
    again = ingest(org, (GENERIC + ROW + ROW).encode(), file_name="bill.csv")
    assert (again.accepted, again.duplicates) == (0, 2)
    third = ingest(org, (GENERIC + ROW + ROW + ROW).encode(), file_name="bill-3.csv")
    assert (third.accepted, third.duplicates) == (1, 2)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("12.00")
        assert InvoiceLine.objects.count() == 3
        assert not InvoiceLineRestatement.objects.exists()


def test_the_first_of_identical_rows_keeps_the_key_it_had_before_rows_were_counted(world):
    [parsed] = list(read_generic_csv(io.BytesIO((GENERIC + ROW).encode())))
    org = world.org("a")
    ingest(org, (GENERIC + ROW + ROW).encode(), file_name="bill.csv")
    with scope(organization=org):
        assert InvoiceLine.objects.get(source_line=2).line_key == parsed.line_key("csv")


CUR_HEADER = (
    "identity_line_item_id,identity_time_interval,bill_invoice_id,bill_billing_period_start_date,"
    "line_item_usage_start_date,line_item_product_code,line_item_usage_type,line_item_unblended_cost,"
    "line_item_currency_code\n"
)


def cur_row(line_item_id: str) -> str:
    return (
        f"{line_item_id},2026-10-01T00:00:00Z/2026-10-02T00:00:00Z,INV-1,2026-10-01T00:00:00Z,"
        "2026-10-01T00:00:00Z,AmazonBedrock,USW2-Claude4.5Sonnet-input-tokens,3.00,USD\n"
    )


def test_cur_rows_with_the_same_line_item_id_are_one_charge_and_different_ids_two(world, models_catalog):
    org = world.org("a")
    same = ingest(org, (CUR_HEADER + cur_row("li-1") + cur_row("li-1")).encode(), format="aws-cur", file_name="c.csv")
    assert (same.accepted, same.duplicates) == (1, 1)
    two = ingest(
        world.org("b"), (CUR_HEADER + cur_row("li-1") + cur_row("li-2")).encode(), format="aws-cur", file_name="c.csv"
    )
    assert (two.accepted, two.duplicates) == (2, 0)
    # Without the identity column (older exports), identical rows are separate charges like any other bill's.
    bare = CUR_HEADER.replace("identity_line_item_id,identity_time_interval,", "")
    row = cur_row("x").split(",", 2)[2].replace("INV-1", "INV-2")
    none = ingest(world.org("b"), (bare + row + row).encode(), format="aws-cur", file_name="c.csv")
    assert (none.accepted, none.duplicates) == (2, 0)
    with scope(organization=world.org("b")):
        assert ProviderInvoice.objects.get(invoice_number="INV-2").total == Decimal("6.00")


def test_a_restatement_of_a_period_past_open_is_flagged_late_by_its_change(world, models_catalog):
    org = world.org("a")
    ingest(org, anthropic_report("12345.6"))
    BillingPeriodFactory(organization=org, period=date(2026, 10, 1), state=BillingPeriod.State.RECONCILING)
    job = ingest(org, anthropic_report("12500"))
    with scope(organization=org):
        arrival = LateArrival.objects.get()
    assert (arrival.kind, arrival.job_id, arrival.rows, arrival.amount_nano) == ("invoices", job.pk, 1, 1_544_000_000)
    assert arrival.detail == {"invoices": ["anthropic anthropic-cost-2026-10"], "restated": 1}


def test_restatements_never_cross_organisations(world, models_catalog):
    ingest(world.org("a"), anthropic_report("12345.6"))
    job_b = ingest(world.org("b"), anthropic_report("12500"))
    assert (job_b.accepted, job_b.restated) == (1, 0)  # the same bucket in another organisation is its own
    for name, total in (("a", 123_456_000_000), ("b", 125_000_000_000)):
        with scope(organization=world.org(name)):
            assert ProviderInvoice.objects.get().total_nano == total
            assert not InvoiceLineRestatement.objects.exists()


def test_the_invoice_page_and_the_api_show_restatements(world, models_catalog):
    org = world.org("a")
    first = ingest(org, openai_costs("10.00"), file_name="costs-1.json")
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
    client = world.login("a", Role.VIEWER)
    detail = reverse("invoices:detail", kwargs={"org_slug": org.slug, "pk": invoice.pk})
    page = client.get(detail)
    assert "No line of this invoice has been restated." in page.content.decode()
    second = ingest(org, openai_costs("12.50"), file_name="costs-2.json")
    page = client.get(detail).content.decode()
    assert "1 line restated" in page
    assert "10.00" in page and "12.50" in page and "2.50" in page
    assert f"#{second.pk} costs-2.json" in page
    job_page = client.get(reverse("invoices:import_detail", kwargs={"org_slug": org.slug, "pk": second.pk}))
    assert "1 of the stored lines restated" in job_page.content.decode()
    imports = client.get(reverse("invoices:imports", kwargs={"org_slug": org.slug}))
    assert [(job.pk, job.restated) for job in imports.context["page"]] == [(second.pk, 1), (first.pk, 0)]

    api = world.api("a", [TokenScope.PERIODS_READ])
    [row] = api.get(reverse("api:invoice-list")).json()["results"]
    assert (row["total"], row["lines"], row["restated_lines"]) == ("12.50", 1, 1)
    assert row["restatements_url"] == reverse("api:invoice-restatements", kwargs={"pk": invoice.pk})
    [restated] = api.get(row["restatements_url"]).json()["results"]
    assert {k: restated[k] for k in ("model", "cost_source", "amount", "new_amount", "change", "currency")} == {
        "model": "gpt-4o",
        "cost_source": "input",
        "amount": "10.00",
        "new_amount": "12.50",
        "change": "2.50",
        "currency": "USD",
    }
    assert (restated["import_id"], restated["superseded_by_import"]) == (first.pk, second.pk)
    writer = world.api("a", [TokenScope.INVOICES_WRITE])
    job = writer.get(reverse("api:invoice-import-detail", kwargs={"pk": second.pk})).json()
    assert (job["accepted"], job["restated"], job["result"]["restated"]) == (1, 1, 1)


def test_invoice_totals_are_per_currency_never_summed_across(world):
    org = world.org("a")
    usd = "openai,OA-1,2026-10-05,GPT input,gpt-4o,input,100.00,USD\n"
    eur = "azure-openai,AZ-1,2026-10-05,GPT input,gpt-4o,input,100.00,EUR\n"
    ingest(org, (GENERIC + usd + eur).encode(), file_name="two.csv")
    with scope(organization=org):
        assert invoice_totals_by_currency(organization=org, period=date(2026, 10, 1)) == {
            "EUR": 100_000_000_000,
            "USD": 100_000_000_000,
        }
        rows = invoice_line_totals(organization=org, lines=InvoiceLine.objects.all(), by=("model", "cost_source"))
    assert [(r["model"], r["currency"], r["amount_nano"], r["lines"]) for r in rows] == [
        ("gpt-4o", "EUR", 100_000_000_000, 1),
        ("gpt-4o", "USD", 100_000_000_000, 1),
    ]
