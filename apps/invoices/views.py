from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.limits import LimitExceeded
from apps.core.tables import Column, Table, nano_exact
from apps.ingest import jobs as job_kit
from apps.ingest.tables import JOB_COLUMNS
from apps.tenancy.permissions import org_perm_required, require_org_perm
from apps.tenancy.roles import Perm

from . import selectors
from .forms import InvoiceFilterForm, InvoiceSettingsForm, InvoiceUploadForm, LineFilterForm
from .hooks import invoice_panels
from .models import InvoiceIngestError, InvoiceIngestJob, ProviderInvoice
from .services.ingest import invoice_ingest_create, invoice_settings_for
from .services.settings import invoice_settings_update

RESTATEMENTS_SHOWN = 200  # the newest; the API pages through all of them

INVOICES_TABLE = Table(
    "invoices",
    (
        Column("month", "Month", value="period_label", order="billing_period"),
        Column("provider", "Provider", value="provider", order="provider"),
        Column("invoice", "Invoice", value="invoice_number", order="invoice_number"),
        Column("lines", "Lines", value="line_count", order="line_count", css="num"),
        Column("total", "Total", value=lambda i: nano_exact(i.total_nano, i.currency), order="total_nano", css="num"),
        Column("currency", "Currency", value="currency", order="currency"),
        Column("source", "Source", value="source_format", order="source_format"),
        Column("view", "View", value="get_view_display", order="view"),
    ),
)

IMPORTS_TABLE = Table(
    "invoice-imports",
    (
        *JOB_COLUMNS,
        Column("accepted", "Accepted", value="accepted", order="accepted", css="num"),
        Column("duplicates", "Duplicates", value="duplicates", order="duplicates", css="num"),
        Column(
            "restated",
            "Restated",
            value="restated",
            order="restated",
            css="num",
            help="Stored lines that superseded an earlier pull of the same cost-report bucket",
        ),
        Column("rejected", "Rejected", value="rejected", order="rejected", css="num"),
        Column("when", "When (UTC)", value="created_at", order="created_at"),
    ),
)


@org_perm_required(Perm.VIEW_ALL_COST)
def invoice_list(request, org_slug: str):
    form = InvoiceFilterForm(request.GET or None)
    provider = form.provider_code()
    table = INVOICES_TABLE.bind(request)
    rows = table.sort(
        selectors.invoices(organization=request.organization, period=form.period_date(), provider=provider)
    )
    if response := table.export(rows):
        return response
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "form": form,
            "page": page,
            "query": table.query,
            "table": table,
            "period_totals": selectors.invoice_period_totals(organization=request.organization, provider=provider)[:36],
            # What other apps show here (the provider connectors' last pulls): apps/invoices/hooks.py.
            "panels": invoice_panels(organization=request.organization),
        },
    )


@org_perm_required(Perm.VIEW_ALL_COST)
def invoice_detail(request, org_slug: str, pk: int):
    invoice = get_object_or_404(ProviderInvoice, pk=pk)
    form = LineFilterForm(request.GET or None)
    kind = form.cleaned_data.get("kind") if form.is_valid() else ""
    is_ai = {"ai": True, "other": False}.get(kind or "")
    lines = selectors.invoice_lines(invoice=invoice, is_ai=is_ai)
    page = Paginator(lines, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "restatements": selectors.invoice_restatements(invoice=invoice)[:RESTATEMENTS_SHOWN],
            "restatement_count": selectors.invoice_restatements(invoice=invoice).count(),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "by_model": selectors.invoice_line_totals(
                organization=request.organization,
                lines=selectors.invoice_lines(invoice=invoice),
                by=("is_ai", "provider", "model", "cost_source"),
            ),
            "by_category": selectors.invoice_line_totals(
                organization=request.organization,
                lines=selectors.invoice_lines(invoice=invoice),
                by=("charge_category",),
            ),
        },
    )


@org_perm_required(Perm.VIEW_ALL_COST)
def import_list(request, org_slug: str):
    """Everyone who sees cost sees what was imported; uploading needs the ingest permission."""
    can_ingest = request.membership.has_perm(Perm.INGEST)
    form = InvoiceUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require_org_perm(request, Perm.INGEST)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job, _ = invoice_ingest_create(
                    organization=request.organization,
                    actor=request.user,
                    file_name=upload.name,
                    stream=upload,
                    format=form.cleaned_data["format"],
                    channel=InvoiceIngestJob.Channel.UPLOAD,
                )
            except LimitExceeded as exc:
                form.add_error("file", exc.message)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return redirect("invoices:import_detail", org_slug=org_slug, pk=job.pk)
    settings_row = invoice_settings_for(organization=request.organization)
    table = IMPORTS_TABLE.bind(request)
    jobs = table.sort(selectors.invoice_ingest_jobs(organization=request.organization))
    if response := table.export(jobs):
        return response
    return render(
        request,
        "invoices/import_list.html",
        {
            "form": form,
            "can_ingest": can_ingest,
            "page": Paginator(jobs, 25).get_page(request.GET.get("page")),
            "query": table.query,
            "table": table,
            "settings_form": InvoiceSettingsForm(initial={"focus_cost_view": settings_row.focus_cost_view}),
            "can_change_settings": request.membership.has_perm(Perm.PREPARE_PERIOD),
        },
    )


@org_perm_required(Perm.VIEW_ALL_COST)
def import_detail(request, org_slug: str, pk: int):
    job = get_object_or_404(InvoiceIngestJob, pk=pk)
    errors = Paginator(InvoiceIngestError.objects.filter(job=job).order_by("line", "id"), 50).get_page(
        request.GET.get("page")
    )
    template = "invoices/_import_progress.html" if request.htmx else "invoices/import_detail.html"
    return render(
        request,
        template,
        {
            "job": job,
            "errors": errors,
            "worker_wait": job_kit.job_worker_wait(job=job),
            "invoices": selectors.invoices(organization=request.organization).filter(jobs=job),
            "can_ingest": request.membership.has_perm(Perm.INGEST),
        },
    )


@require_POST
@org_perm_required(Perm.INGEST)
def import_retry(request, org_slug: str, pk: int):
    job = get_object_or_404(InvoiceIngestJob, pk=pk)
    try:
        job_kit.job_retry(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("invoices:import_detail", org_slug=org_slug, pk=pk)


@require_POST
@org_perm_required(Perm.PREPARE_PERIOD)
def settings_update(request, org_slug: str):
    form = InvoiceSettingsForm(request.POST)
    if form.is_valid():
        try:
            invoice_settings_update(
                organization=request.organization,
                actor=request.user,
                focus_cost_view=form.cleaned_data["focus_cost_view"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Saved. FOCUS files ingested from now on use this amount.")
    else:
        messages.error(request, "Choose billed or effective cost.")
    return redirect("invoices:imports", org_slug=org_slug)
