"""Cross-tenant cases for the invoices app."""

from django_scopes import scope

from apps.invoices.models import InvoiceIngestJobInvoice, InvoiceLine
from tests.factories.invoices import (
    InvoiceIngestErrorFactory,
    InvoiceIngestJobFactory,
    InvoiceLineFactory,
    InvoiceLineRestatementFactory,
    InvoiceSettingsFactory,
    ProviderInvoiceFactory,
)

from . import api_route, portal_route, tenant_model


def make_invoice(world, organization):
    with scope(organization=organization):
        return ProviderInvoiceFactory(organization=organization)


def make_line(world, organization) -> InvoiceLine:
    with scope(organization=organization):
        return InvoiceLineFactory(invoice=ProviderInvoiceFactory(organization=organization))


def make_job(world, organization):
    with scope(organization=organization):
        return InvoiceIngestJobFactory(organization=organization)


def make_error(world, organization):
    with scope(organization=organization):
        return InvoiceIngestErrorFactory(job=InvoiceIngestJobFactory(organization=organization))


def make_job_invoice(world, organization) -> InvoiceIngestJobInvoice:
    with scope(organization=organization):
        job = InvoiceIngestJobFactory(organization=organization)
        invoice = ProviderInvoiceFactory(organization=organization)
        job.invoices.add(invoice)
        return InvoiceIngestJobInvoice.objects.get(organization=organization, invoiceingestjob=job)


def make_restatement(world, organization):
    with scope(organization=organization):
        return InvoiceLineRestatementFactory(invoice=ProviderInvoiceFactory(organization=organization))


def make_settings(world, organization):
    with scope(organization=organization):
        return InvoiceSettingsFactory(organization=organization)


tenant_model("invoices.providerinvoice", make_invoice)
tenant_model("invoices.invoiceline", make_line)
tenant_model("invoices.invoiceingestjob", make_job)
tenant_model("invoices.invoiceingesterror", make_error)
tenant_model("invoices.invoicesettings", make_settings)
tenant_model("invoices.invoicelinerestatement", make_restatement)
tenant_model("invoices.invoiceingestjobinvoice", make_job_invoice)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _invoice(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_invoice(world, organization).pk}


def _job(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_job(world, organization).pk}


portal_route("invoices:list", _org)
portal_route("invoices:detail", _invoice)
portal_route("invoices:imports", _org)
portal_route("invoices:import_detail", _job)
portal_route("invoices:import_retry", _job, method="post", role="finance_analyst")
portal_route("invoices:settings", _org, method="post")

api_route("api:invoice-list", row_id=lambda w, o: make_invoice(w, o).pk)
api_route("api:invoice-detail", lambda w, o: {"pk": make_invoice(w, o).pk})
api_route("api:invoice-lines", lambda w, o: {"pk": make_line(w, o).invoice_id})
api_route("api:invoice-restatements", lambda w, o: {"pk": make_restatement(w, o).invoice_id})
api_route("api:invoice-import-list", row_id=lambda w, o: make_job(w, o).pk)
api_route("api:invoice-import-detail", lambda w, o: {"pk": make_job(w, o).pk})
api_route("api:invoice-import-retry", lambda w, o: {"pk": make_job(w, o).pk}, method="post")
