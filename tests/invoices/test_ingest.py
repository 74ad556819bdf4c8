import gzip
from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.invoices.models import InvoiceIngestJob, InvoiceIngestJobInvoice, InvoiceLine, ProviderInvoice
from apps.invoices.services.ingest import invoice_ingest_summary
from apps.invoices.services.settings import invoice_settings_update
from tests.dbchecks import assert_refused_by

from .conftest import FIXTURES, ingest

pytestmark = pytest.mark.django_db


def test_openai_pages_become_one_invoice_with_canonical_models(world, models_catalog):
    org = world.org("a")
    job = ingest(org, "openai_costs_pages.ndjson")
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
        assert (invoice.provider, invoice.billing_period, invoice.currency) == ("openai", date(2026, 10, 1), "USD")
        assert invoice.total == Decimal("19.695555555")
        lines = list(InvoiceLine.objects.order_by("source_line", "id").values_list("model", "cost_source"))
        assert lines == [
            ("gpt-4o", "input"),
            ("gpt-4o", "output"),
            ("gpt-4o", "cache_read"),
            ("gpt-4o-mini", "input"),
            ("", "tool_calls"),
        ]
        assert invoice_ingest_summary(job=job) == {
            "status": "succeeded",
            "invoices": [
                {
                    "provider": "openai",
                    "billing_period": "2026-10",
                    "total": "19.695555555",
                    "currency": "USD",
                    "lines": 5,
                }
            ],
            "duplicates": 0,
            "restated": 0,
            "rejected": 0,
            "errors": [],
        }


def test_reingesting_the_same_file_changes_nothing(world, models_catalog):
    org = world.org("a")
    ingest(org, "focus_1_2_aws.csv")
    with scope(organization=org):
        before_lines = list(InvoiceLine.objects.values_list("pk", "amount_nano", "line_key"))
        before_events = AuditEvent.objects.filter(object_type="invoices.providerinvoice").count()
    again = ingest(org, "focus_1_2_aws.csv")
    with scope(organization=org):
        assert list(InvoiceLine.objects.values_list("pk", "amount_nano", "line_key")) == before_lines
        assert AuditEvent.objects.filter(object_type="invoices.providerinvoice").count() == before_events
        assert ProviderInvoice.objects.get().total == Decimal("197.455678")
        summary = invoice_ingest_summary(job=again)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 7, 0)
    assert summary["invoices"] == [
        {"provider": "aws", "billing_period": "2026-10", "total": "197.455678", "currency": "USD", "lines": 7}
    ]


def test_bedrock_lines_resolve_and_cloud_cost_is_kept_apart(world, models_catalog):
    org = world.org("a")
    ingest(org, "aws_cur_bedrock.csv")
    with scope(organization=org):
        ai = InvoiceLine.objects.filter(is_ai=True, charge_category="Usage")
        assert sorted(ai.values_list("model", "cost_source")) == [
            ("claude-sonnet-4-5", "cache_read"),
            ("claude-sonnet-4-5", "cache_write"),
            ("claude-sonnet-4-5", "input"),
            ("claude-sonnet-4-5", "output"),
        ]
        assert ai.first().provider == "aws-bedrock"
        other = InvoiceLine.objects.get(is_ai=False)
        assert (other.provider, other.model, other.cost_source, other.amount) == ("aws", "", "other", Decimal("2.496"))
        assert ProviderInvoice.objects.get().total == Decimal("9.371")


def test_bad_rows_are_reported_and_good_rows_kept(world):
    org = world.org("a")
    job = ingest(org, "generic_invoice.csv")
    assert (job.status, job.accepted, job.rejected) == ("succeeded", 3, 2)
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
        assert (invoice.provider, invoice.currency, invoice.total) == ("mistral", "EUR", Decimal("11.50"))
        errors = invoice_ingest_summary(job=job)["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(5, "cost_source"), (6, "date")]


def test_anthropic_cents_and_gzip(world, models_catalog):
    org = world.org("a")
    job = ingest(org, gzip.compress((FIXTURES / "anthropic_cost_report.json").read_bytes()), file_name="r.json.gz")
    assert job.format == "anthropic-cost-report"
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("24.850678")
        assert set(InvoiceLine.objects.values_list("model", flat=True)) == {"claude-sonnet-4-5"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"foo,bar\n1,2\n", "could not recognise"),
        (b"provider,invoice_number,date,description,model,cost_source,amount,currency\n", "no charges"),
    ],
)
def test_refused_files_write_nothing(world, data, message):
    org = world.org("a")
    job = ingest(org, data)
    assert job.status == InvoiceIngestJob.Status.REFUSED
    assert message in job.error_message
    with scope(organization=org):
        assert not ProviderInvoice.objects.exists()
        assert not InvoiceLine.objects.exists()
        assert invoice_ingest_summary(job=job)["errors"][0]["field"] == "(file)"


def test_effective_view_is_used_when_the_organisation_chose_it(world):
    org = world.org("a")
    invoice_settings_update(organization=org, actor=None, focus_cost_view="effective")
    ingest(org, "focus_1_2_aws.csv")
    with scope(organization=org):
        invoice = ProviderInvoice.objects.get()
        assert (invoice.view, invoice.total) == ("effective", Decimal("127.205678"))
    # Reading the bill again with the other column must not add to it: the same rows are duplicates,
    # and a new row for the same invoice is refused rather than mixing the two views.
    invoice_settings_update(organization=org, actor=None, focus_cost_view="billed")
    job = ingest(org, "focus_1_2_aws.csv")
    assert (job.accepted, job.duplicates) == (0, 7)
    extra = (FIXTURES / "focus_1_2_aws.csv").read_bytes().replace(b"12.345678,12.345678", b"1.000000,1.000000")
    job = ingest(org, extra)
    assert (job.accepted, job.duplicates, job.rejected) == (0, 6, 1)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("127.205678")


def test_a_line_in_another_currency_than_its_invoice_is_rejected(world):
    org = world.org("a")
    header = b"provider,invoice_number,date,description,model,cost_source,amount,currency\n"
    ingest(org, header + b"acme-ai,X-1,2026-10-01,a,m,input,1.00,USD\n")
    job = ingest(
        org, header + b"acme-ai,X-1,2026-10-02,b,m,input,2.00,EUR\nacme-ai,X-1,2026-10-03,c,m,input,3.00,USD\n"
    )
    assert (job.accepted, job.rejected) == (1, 1)
    with scope(organization=org):
        assert ProviderInvoice.objects.get().total == Decimal("4.00")


def test_invoices_stay_in_their_organisation(world):
    ingest(world.org("a"), "generic_invoice.csv")
    job_b = ingest(world.org("b"), "generic_invoice.csv")
    assert job_b.accepted == 3  # same file, other org: not a duplicate
    with scope(organization=world.org("b")):
        assert ProviderInvoice.objects.count() == 1


def test_an_imports_invoice_links_carry_its_organisation_and_never_cross(world):
    """The link rows behind job.invoices are filled with the job's organisation by the ingest's add(). A link
    from one organisation's import to another's invoice: PostgreSQL's composite foreign key refuses it; where
    nothing refuses it (SQLite), the relation joins by organisation, so the other organisation's invoice never
    shows through it."""
    from django.db import IntegrityError, connection, transaction
    from django_scopes import scopes_disabled

    job_a = ingest(world.org("a"), "generic_invoice.csv")
    job_b = ingest(world.org("b"), "generic_invoice.csv")
    with scopes_disabled():
        invoice_a = ProviderInvoice.objects.get(organization=world.org("a"))
        invoice_b = ProviderInvoice.objects.get(organization=world.org("b"))
        links = set(
            InvoiceIngestJobInvoice.objects.values_list("organization_id", "invoiceingestjob_id", "providerinvoice_id")
        )
        assert links == {
            (world.org("a").pk, job_a.pk, invoice_a.pk),
            (world.org("b").pk, job_b.pk, invoice_b.pk),
        }
        crossing = InvoiceIngestJobInvoice(
            organization=world.org("a"), invoiceingestjob_id=job_a.pk, providerinvoice_id=invoice_b.pk
        )
        if connection.vendor == "postgresql":
            with pytest.raises(IntegrityError) as refused, transaction.atomic():
                InvoiceIngestJobInvoice.objects.bulk_create([crossing])
            assert_refused_by(refused.value, "invoices_invoiceingestjob_invoices_providerinvoice_id_tfk")
            return
        InvoiceIngestJobInvoice.objects.bulk_create([crossing])
        assert list(InvoiceIngestJob.objects.get(pk=job_a.pk).invoices.all()) == [invoice_a]
        assert list(ProviderInvoice.objects.filter(jobs=job_a.pk)) == [invoice_a]
