"""Reconciliation pages. Reading needs PREPARE_PERIOD or VIEW_ALL_COST (finance roles, org admins,
viewers); making a run needs PREPARE_PERIOD."""

import json
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.csv import csv_response
from apps.core.forms import PeriodForm
from apps.core.money import nano_to_decimal
from apps.core.tables import Column, Table, exact_decimal, nano_exact
from apps.invoices.selectors import invoices
from apps.jobs.after_submit import after_submit
from apps.tenancy.permissions import org_any_perm_required, org_perm_required
from apps.tenancy.roles import Perm

from . import selectors
from .jobs import reconciliation_submit
from .models import ReconciliationRun

READ_PERMS = (Perm.PREPARE_PERIOD, Perm.VIEW_ALL_COST)


reconciliation_read_required = org_any_perm_required(*READ_PERMS, what="reconciliation")


def _default_period(organization) -> date:
    run = selectors.latest_run(organization=organization)
    if run is not None:
        return run.period
    periods = selectors.periods_to_reconcile(organization=organization)
    if periods:
        return periods[0]
    today = timezone.localdate()
    return date(today.year, today.month, 1)


# The period's runs, as the history under a run lists them (the currency, shown nowhere in the row, is a
# column of the export; amounts exported exactly).
RUNS_TABLE = Table(
    "reconciliation-runs",
    (
        Column("run", "Run", value="pk", order="id"),
        Column("month", "Month", value="period_label", in_page=False),
        Column("when", "When (UTC)", value="created_at", order="created_at"),
        Column("by", "By", value="created_by_label", order="created_by_label"),
        Column("status", "Status", value="get_status_display", order="status"),
        Column(
            "estimated",
            "Estimated",
            value=lambda r: nano_exact(r.estimated_nano, r.currency),
            order="estimated_nano",
            css="num",
        ),
        Column(
            "invoiced",
            "Invoiced",
            value=lambda r: nano_exact(r.invoiced_nano, r.currency),
            order="invoiced_nano",
            css="num",
        ),
        Column("currency", "Currency", value="currency", in_page=False),
        Column(
            "tolerance", "Tolerance %", value=lambda r: exact_decimal(r.tolerance_pct), order="tolerance_pct", css="num"
        ),
    ),
)


def _page(request, *, period: date, run: ReconciliationRun | None, is_latest: bool, table=None):
    organization = request.organization
    table = table or RUNS_TABLE.bind(request)
    runs = table.sort(selectors.runs(organization=organization, period=period))
    if response := table.export(runs):
        return response
    history = Paginator(runs, 50).get_page(request.GET.get("page"))
    history_query = request.GET.copy()
    for name in ("page", "export", "period"):
        history_query.pop(name, None)
    history_query["period"] = f"{period:%Y-%m}"
    context = {
        "period": period,
        "period_label": f"{period:%Y-%m}",
        "run": run,
        "is_latest": is_latest,
        "history": history,
        "history_query": history_query.urlencode(),
        "table": table,
        "periods": selectors.periods_to_reconcile(organization=organization)[:24],
        "trend": selectors.trend(organization=organization),
        "can_run": request.membership.has_perm(Perm.PREPARE_PERIOD),
        "period_invoices": invoices(organization=organization, period=period),
        "currency": run.currency if run else organization.base_currency,
    }
    if run is not None:
        providers = list(selectors.run_lines(run=run, level="provider"))
        context.update(
            providers=providers,
            model_lines=selectors.model_chart(run=run),
            source_lines=list(selectors.run_lines(run=run, level="cost_source")),
            day_charts=[
                {"provider": line.provider, "bars": selectors.day_chart(run=run, provider=line.provider)}
                for line in providers
            ],
            untagged=[
                {"key": key, "requests": figures["requests"], "cost_nano": figures["cost_nano"]}
                for key, figures in run.untagged.items()
            ],
            model_scale=selectors.MODEL_CHART_SCALE_PCT,
            overhead_threshold=selectors.PLATFORM_OVERHEAD_THRESHOLD_PCT,
            overhead_ok=run.platform_overhead_pct <= selectors.PLATFORM_OVERHEAD_THRESHOLD_PCT,
            conversion=selectors.run_conversion(run=run),
            source_totals=_source_totals(run),
        )
    return render(request, "reconciliation/run.html", context)


def _source_totals(run: ReconciliationRun) -> list[dict]:
    """What the run added up per currency before conversion (runs made before conversion have none)."""
    totals = run.inputs.get("source_totals") or {}
    labels = {"usage": "Estimated (usage)", "invoices": "Invoiced (AI)", "other_cloud": "Other cloud cost"}
    return [
        {"label": labels[key], "amounts": sorted((totals.get(key) or {}).items())}
        for key in ("usage", "invoices", "other_cloud")
        if totals.get(key)
    ]


@reconciliation_read_required
def overview(request, org_slug: str):
    table = RUNS_TABLE.bind(request)
    form = PeriodForm(table.filter_data)
    period = form.period_date() or _default_period(request.organization)
    run = selectors.latest_run(organization=request.organization, period=period)
    return _page(request, period=period, run=run, is_latest=True, table=table)


@reconciliation_read_required
def run_detail(request, org_slug: str, pk: int):
    run = get_object_or_404(ReconciliationRun, pk=pk)
    latest = selectors.latest_run(organization=request.organization, period=run.period)
    return _page(request, period=run.period, run=run, is_latest=latest is not None and latest.pk == run.pk)


@require_POST
@org_perm_required(Perm.PREPARE_PERIOD)
def run_create(request, org_slug: str):
    form = PeriodForm(request.POST)
    period = form.period_date()
    if period is None:
        messages.error(request, "Choose the month to reconcile as YYYY-MM, e.g. 2026-10.")
        return redirect("reconciliation:overview", org_slug=org_slug)
    job = reconciliation_submit(organization=request.organization, period=period, actor=request.user)
    return after_submit(request, job, refused_url=reverse("reconciliation:overview", kwargs={"org_slug": org_slug}))


CSV_HEADER = [
    "run",
    "period",
    "level",
    "provider",
    "key",
    "currency",
    "estimated",
    "invoiced",
    "variance",
    "variance_pct",
    "within_tolerance",
    "note",
]


@reconciliation_read_required
def run_export(request, org_slug: str, pk: int):
    run = get_object_or_404(ReconciliationRun, pk=pk)
    # Exact amounts (all nine decimals) so the export re-adds to the run's totals. They go in as Decimals, so
    # a negative variance stays a number; keys (model names, tag values from usage files) are neutralised.
    rows = (
        [
            run.pk,
            run.period_label,
            line.level,
            line.provider,
            line.key,
            run.currency,
            nano_to_decimal(int(line.estimated_nano)),
            None if line.invoiced_nano is None else nano_to_decimal(int(line.invoiced_nano)),
            None if line.variance_nano is None else nano_to_decimal(int(line.variance_nano)),
            line.variance_pct,
            {True: "yes", False: "no", None: ""}[line.within_tolerance],
            line.note,
        ]
        for level in ("provider", "model", "cost_source", "day")
        for line in selectors.run_lines(run=run, level=level)
    )
    return csv_response(
        filename=f"reconciliation-{request.organization.slug}-{run.period_label}-run{run.pk}.csv",
        header=CSV_HEADER,
        rows=rows,
    )


CONVERSION_CSV_HEADER = [
    "run",
    "period",
    "from_currency",
    "to_currency",
    "day",
    "period_start",
    "period_end",
    "rate_day",
    "rate",
    "rate_exact",
    "days_averaged",
    "source",
    "quotes",
    "amounts",
    "amount",
    "converted",
]


@reconciliation_read_required
def run_conversion_export(request, org_slug: str, pk: int):
    """The exchange rates of a run, one row per rate: which amounts of which currency became how much."""
    run = get_object_or_404(ReconciliationRun, pk=pk)
    converted = selectors.run_conversion(run=run)
    rows = (
        [
            run.pk,
            run.period_label,
            line.from_currency,
            line.to_currency,
            line.for_day.isoformat() if line.for_day else "",
            line.period_start.isoformat() if line.period_start else "",
            line.period_end.isoformat() if line.period_end else "",
            line.rate_day.isoformat() if line.rate_day else "",
            line.rate_display,
            f"{line.rate_num}/{line.rate_den}",
            line.days_averaged,
            line.source,
            json.dumps(line.quotes, sort_keys=True),
            line.amounts,
            nano_to_decimal(int(line.amount_nano)),
            nano_to_decimal(int(line.converted_nano)),
        ]
        for line in (converted.lines if converted else [])
    )
    return csv_response(
        filename=f"reconciliation-{request.organization.slug}-{run.period_label}-run{run.pk}-rates.csv",
        header=CONVERSION_CSV_HEADER,
        rows=rows,
    )
