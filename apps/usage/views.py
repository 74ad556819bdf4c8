from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.calendar import month_after, month_before, parse_period
from apps.core.csv import csv_response
from apps.core.forms import apply_validation_error
from apps.core.keyset import InvalidCursor, keyset_page
from apps.core.limits import LimitExceeded
from apps.core.money import money_text, nano_to_decimal
from apps.core.tables import Column, Table, nano_money
from apps.ingest import jobs as job_kit
from apps.ingest.tables import JOB_COLUMNS
from apps.taxonomy.models import TagDimension
from apps.taxonomy.selectors import tagging_health as tagging_health_rows
from apps.taxonomy.selectors import undefined_tag_keys
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import selectors
from .forms import SourceMappingForm, UploadForm, UsageFilterForm
from .models import IngestError, IngestJob, SourceMapping
from .services.ingest import ingest_job_create
from .services.mappings import source_mapping_create, source_mapping_delete


def _filter_form(request) -> UsageFilterForm:
    dimensions = list(
        TagDimension.objects.filter(is_active=True).order_by("position", "key").values_list("key", flat=True)
    )
    return UsageFilterForm(request.GET or None, dimensions=dimensions)


BREAKDOWN_SHOWN = 200


def _per_request(row) -> Decimal | None:
    """Cost per request as the page shows it, to the millionth of the currency unit."""
    if not row["requests"]:
        return None
    return (nano_to_decimal(row["cost_nano"]) / row["requests"]).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def _share(row) -> Decimal:
    # The breakdown computes the share as a float (a percentage, not money): it becomes a Decimal here, at the
    # boundary, rounded to the tenth of a percent the page shows.
    return Decimal(str(row["share_pct"])).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def breakdown_table(group_by: str) -> Table:
    """The explorer's breakdown, computed in Python from the cube: its columns sort with Python keys. Costs sort
    within their currency (never compared across currencies)."""
    return Table(
        f"usage-by-{group_by}",
        (
            Column("key", group_by.replace("_", " ").capitalize(), value="key", order=lambda r: str(r["key"])),
            Column("requests", "Requests", value="requests", order="requests", css="num"),
            Column("input", "Input", value="input_tokens", order="input_tokens", css="num"),
            Column("output", "Output", value="output_tokens", order="output_tokens", css="num"),
            Column(
                "cache_read",
                "Cache read",
                value="cache_read_tokens",
                order="cache_read_tokens",
                css="num",
            ),
            Column(
                "cost",
                "Cost",
                value=lambda r: nano_money(r["cost_nano"], r["currency"]),
                order=lambda r: (r["currency"], r["cost_nano"]),
                css="num",
            ),
            Column("currency", "Currency", value="currency", in_page=False),
            Column("share", "Share %", value=_share, order=lambda r: (r["currency"], r["cost_nano"]), css="num"),
            Column(
                "per_request",
                "Cost / request",
                value=_per_request,
                order=lambda r: (r["currency"], _per_request(r) if r["requests"] else Decimal(-1)),
                css="num",
            ),
        ),
        note=f"The page shows the first {BREAKDOWN_SHOWN} rows in this order; the download has all of them.",
    )


@org_perm_required(Perm.VIEW_ORG)
def explorer(request, org_slug: str):
    form = _filter_form(request)
    usage_filter = form.usage_filter()
    if usage_filter.date_from is None and usage_filter.date_to is None:
        # Not all history by default (the cube grows with it): the latest month, as the request list.
        usage_filter.date_from, usage_filter.date_to = _default_month(request.organization)
    team_values = selectors.visible_team_values(organization=request.organization, membership=request.membership)
    group_by = (form.cleaned_data.get("group_by") if form.is_valid() else None) or "team"
    detail_keys = selectors.detail_dimension_keys(organization=request.organization)
    in_play = [k for k in usage_filter.tags if k in detail_keys] or ([group_by] if group_by in detail_keys else [])
    note = ""
    if in_play:
        # A detail dimension (e.g. customer) is not in the cube: read its per-value daily totals.
        dimension = in_play[0]
        rows = selectors.daily_detail_usage(
            organization=request.organization, usage_filter=usage_filter, team_values=team_values, dimension=dimension
        )
        by = {dimension: "value", "team": "team", "day": "day"}.get(group_by, "value")
        note = (
            f"{dimension} has many values, so these figures come from per-{dimension} daily totals: the provider, "
            "model, tier, retry and batch filters do not apply here."
        )
        group_by = dimension if by == "value" else by
    else:
        rows = selectors.daily_usage(
            organization=request.organization,
            usage_filter=usage_filter,
            team_values=team_values,
            detail_keys=detail_keys,
            by_day=group_by == "day",
        )
        by = group_by
    breakdown = selectors.usage_breakdown(
        rows, organization=request.organization, by=by, cost_source=usage_filter.cost_source
    )
    table = breakdown_table(group_by).bind(request)
    sorted_breakdown = table.sort(breakdown)
    if response := table.export(sorted_breakdown):
        return response
    return render(
        request,
        "usage/explorer.html",
        {
            "form": form,
            "totals": selectors.totals_of_breakdown(
                breakdown, organization=request.organization, cost_source=usage_filter.cost_source
            ),
            "breakdown": sorted_breakdown[:BREAKDOWN_SHOWN],
            "table": table,
            "group_by": group_by,
            "restricted": team_values is not None,
            "note": note,
            "date_from": usage_filter.date_from,
            "date_to": usage_filter.date_to,
        },
    )


def _default_month(organization) -> tuple[date, date]:
    """First and last day of the month of the latest usage (this month for an organisation sending usage
    daily; today's month without usage): what the pages that would otherwise read all history open on."""
    latest = selectors.latest_usage_day(organization=organization) or timezone.now().date()
    first = latest.replace(day=1)
    return first, month_after(first) - timedelta(days=1)


def _chosen_month(request, organization) -> tuple[date, date]:
    """``?month=YYYY-MM`` if given and valid, else the default month."""
    text = request.GET.get("month") or ""
    try:
        first = parse_period(text)
    except ValidationError:
        return _default_month(organization)
    return first, month_after(first) - timedelta(days=1)


RECORDS_PAGE_SIZE = 50


def _nano6(nano, currency):
    if nano is None:
        return None
    return nano_to_decimal(int(nano)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def _flags(r) -> str:
    flags = [
        ("retry", r.is_retry),
        ("batch", r.is_batch),
        ("unpriced", r.unpriced),
        ("tag gap", r.missing_required_tags),
    ]
    return ", ".join(name for name, on in flags if on)


# Keyset pages: the list is read newest first by (time, id) and cannot be re-sorted without losing the cheap
# page reads, so no column sorts; the export has the same rows in the same order.
RECORDS_TABLE = Table(
    "usage-requests",
    (
        Column("when", "When (UTC)", value="occurred_at"),
        Column("request", "Request", value="request_id"),
        Column("trace", "Trace", value="trace_id", in_page=False),
        Column("model", "Provider / model", value=lambda r: f"{r.provider} / {r.model}"),
        Column("tier", "Tier", value="service_tier"),
        Column("tags", "Tags", value=lambda r: ", ".join(f"{k}={v}" for k, v in r.tagset.tags.items())),
        Column("in", "In", value="input_tokens", css="num"),
        Column("out", "Out", value="output_tokens", css="num"),
        Column(
            "cache",
            "Cache r/w",
            value=lambda r: f"{r.cache_read_tokens} / {r.cache_write_5m_tokens + r.cache_write_1h_tokens}",
            css="num",
        ),
        Column("tools", "Tools", value="tool_calls", css="num"),
        Column("estimated", "Estimated", value=lambda r: _nano6(r.estimated_nano, r.currency), css="num"),
        Column("currency", "Currency", value="currency", in_page=False),
        Column("gateway", "Gateway", value=lambda r: _nano6(r.gateway_cost_nano, r.currency), css="num"),
        Column("flags", "Flags", value=_flags),
    ),
    note="Requests are listed newest first, the order their pages are read in, so the columns do not sort.",
)
RECORDS_MAX_DAYS = 31


def _records_range(*, organization, usage_filter) -> tuple[date, date, str]:
    """The days the request list reads: the chosen month or dates, at most RECORDS_MAX_DAYS of them.
    Without a choice, the month of the latest usage."""
    first, last = usage_filter.date_from, usage_filter.date_to
    note = ""
    if first is None and last is None:
        first, last = _default_month(organization)
    elif first is None:
        first = last.replace(day=1)
    if last is None:
        last = month_after(first.replace(day=1)) - timedelta(days=1)
    if (last - first).days >= RECORDS_MAX_DAYS:
        first = last - timedelta(days=RECORDS_MAX_DAYS - 1)
        note = f"The request list shows at most {RECORDS_MAX_DAYS} days at a time: from {first} to {last}."
    return first, last, note


@org_perm_required(Perm.VIEW_ORG)
def records(request, org_slug: str):
    """The requests behind the totals: one month (or up to 31 chosen days), newest first, a keyset page at
    a time (Older/Newer carry a signed cursor). No count and no offset: page 1 and page 10,000 cost the
    same index read."""
    form = _filter_form(request)
    usage_filter = form.usage_filter()
    usage_filter.date_from, usage_filter.date_to, note = _records_range(
        organization=request.organization, usage_filter=usage_filter
    )
    team_values = selectors.visible_team_values(organization=request.organization, membership=request.membership)
    queryset = selectors.usage_records(
        organization=request.organization,
        usage_filter=usage_filter,
        team_values=team_values,
        detail_keys=selectors.detail_dimension_keys(organization=request.organization),
    )
    table = RECORDS_TABLE.bind(request)
    if response := table.export(queryset.order_by("-occurred_at", "-id")):
        return response
    try:
        page = keyset_page(
            queryset,
            cursor=request.GET.get("cursor"),
            size=RECORDS_PAGE_SIZE,
            salt=f"usage.records:{request.organization.pk}",
        )
    except InvalidCursor as exc:
        return render(request, "usage/records_bad_cursor.html", {"message": str(exc)}, status=400)
    query = request.GET.copy()
    for name in ("cursor", "page"):
        query.pop(name, None)
    month = usage_filter.date_from.replace(day=1)
    month_query = query.copy()
    for name in ("date_from", "date_to", "month"):
        month_query.pop(name, None)
    return render(
        request,
        "usage/records.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "month_query": month_query.urlencode(),
            "date_from": usage_filter.date_from,
            "date_to": usage_filter.date_to,
            "earlier_month": month_before(month).strftime("%Y-%m"),
            "later_month": month_after(month).strftime("%Y-%m"),
            "note": note,
            "table": table,
        },
    )


JOBS_TABLE = Table(
    "usage-imports",
    (
        *JOB_COLUMNS,
        Column("rows", "Rows", value="rows_total", order="rows_total", css="num"),
        Column("accepted", "Accepted", value="accepted", order="accepted", css="num"),
        Column("duplicates", "Duplicates", value="duplicates", order="duplicates", css="num"),
        Column("rejected", "Rejected", value="rejected", order="rejected", css="num"),
        # One amount per currency: text, not a number a spreadsheet would add across currencies.
        Column(
            "estimated",
            "Estimated",
            value=lambda job: "; ".join(
                f"{money_text(amount, currency)} {currency}" for currency, amount in job.estimates
            ),
            css="num",
        ),
        Column("replaced", "Replaced", value="replaced", in_page=False),
        Column("when", "When (UTC)", value="created_at", order="created_at"),
    ),
)


@org_perm_required(Perm.INGEST)
def jobs(request, org_slug: str):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job, _ = ingest_job_create(
                organization=request.organization,
                actor=request.user,
                file_name=upload.name,
                stream=upload,
                format=form.cleaned_data["format"],
                channel=IngestJob.Channel.UPLOAD,
            )
        except LimitExceeded as exc:
            form.add_error("file", exc.message)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            return redirect("usage:job_detail", org_slug=org_slug, pk=job.pk)
    table = JOBS_TABLE.bind(request)
    rows = table.sort(selectors.ingest_jobs(organization=request.organization))
    if response := table.export(rows):
        return response
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "usage/jobs.html", {"form": form, "page": page, "query": table.query, "table": table})


@org_perm_required(Perm.INGEST)
def job_detail(request, org_slug: str, pk: int):
    job = get_object_or_404(IngestJob, pk=pk)
    errors = Paginator(IngestError.objects.filter(job=job).order_by("line", "id"), 50).get_page(request.GET.get("page"))
    template = "usage/_job_progress.html" if request.htmx else "usage/job_detail.html"
    worker_wait = job_kit.job_worker_wait(job=job)
    return render(request, template, {"job": job, "errors": errors, "worker_wait": worker_wait})


@org_perm_required(Perm.INGEST)
def job_errors_csv(request, org_slug: str, pk: int):
    job = get_object_or_404(IngestJob, pk=pk)
    errors = IngestError.objects.filter(job=job).order_by("line", "id").values_list("line", "field", "message")
    # The file name is whatever the uploader called the file and messages quote the file's content: the
    # writer neutralises both; line numbers stay numbers.
    return csv_response(
        filename=f"ingest-{job.pk}-errors.csv",
        header=["file", "line", "field", "message"],
        rows=([job.file_name, line, field_name, message] for line, field_name, message in errors),
    )


@require_POST
@org_perm_required(Perm.INGEST)
def job_retry(request, org_slug: str, pk: int):
    job = get_object_or_404(IngestJob, pk=pk)
    try:
        job_kit.job_retry(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("usage:job_detail", org_slug=org_slug, pk=pk)


@org_perm_required(Perm.VIEW_ORG)
def mappings(request, org_slug: str):
    can_manage = request.membership.has_perm(Perm.MANAGE_CATALOG)
    form = SourceMappingForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Your role cannot change source mappings.")
        if form.is_valid():
            try:
                source_mapping_create(organization=request.organization, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Mapping added. It applies to usage ingested from now on.")
                return redirect("usage:mappings", org_slug=org_slug)
    return render(
        request,
        "usage/mappings.html",
        {
            "mappings": SourceMapping.objects.order_by("kind", "external_id"),
            "form": form,
            "can_manage": can_manage,
        },
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def mapping_delete(request, org_slug: str, pk: int):
    source_mapping_delete(mapping=get_object_or_404(SourceMapping, pk=pk), actor=request.user)
    messages.success(request, "Mapping removed.")
    return redirect("usage:mappings", org_slug=org_slug)


@org_perm_required(Perm.VIEW_ORG)
def tagging_health(request, org_slug: str):
    """Tagging health (linked from the tagging pages, on their URL): here because it counts usage."""
    # Requests, from the usage cube. Detail dimensions (e.g. customer) are not in tag sets: their
    # coverage comes from their own daily totals.
    # One month at a time (``?month=YYYY-MM``, else the latest month with usage): all history would grow
    # with it.
    first, last = _chosen_month(request, request.organization)
    request_counts = selectors.requests_by_tagset(organization=request.organization, first=first, last=last)
    rows = tagging_health_rows(organization=request.organization, request_counts=request_counts)
    detail_keys = selectors.detail_dimension_keys(organization=request.organization)
    for row in rows:
        if row.key in detail_keys:
            with_value = selectors.requests_with_detail_value(
                organization=request.organization, dimension=row.key, first=first, last=last
            )
            row.missing = max(0, row.counted - with_value)
    return render(
        request,
        "usage/tagging_health.html",
        {
            "rows": rows,
            "unit": "requests",
            "month": first,
            "earlier_month": month_before(first).strftime("%Y-%m"),
            "later_month": month_after(first).strftime("%Y-%m"),
            "undefined_keys": undefined_tag_keys(organization=request.organization),
        },
    )
