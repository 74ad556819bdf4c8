"""Allocation pages: a period's run (owner totals footed to the cent, with bars), an owner's lines with
their explanations and a drill-down to the usage behind them, the Unallocated lines, and a what-if preview.

Every member sees the pages; a budget owner sees only the cost centres of their subtree and never the
Unallocated row or page (404, as for another owner's page). Allocating and previewing need PREPARE_PERIOD.
"""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.forms import PeriodForm
from apps.core.money import footed_minor_units, nano_to_decimal, quantize_money
from apps.jobs.after_submit import after_submit
from apps.owners.models import BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.periods.selectors import month_exists
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from ..rules.selectors import primary_version
from . import drilldown, selectors, services
from .formatting import exact_amount
from .jobs import allocation_submit

LINES_PER_PAGE = 50


def _known_month(request, period: str) -> date:
    """The URL's YYYY-MM (the converter checked it) as the month's first day; 404 for a month the
    organisation has nothing in."""
    year, number = (int(part) for part in period.split("-"))
    month = date(year, number, 1)
    if not month_exists(organization=request.organization, period=month):
        raise Http404(f"{period} has no usage, invoice or allocation in {request.organization.name}.")
    return month


def _current_run(request, month: date):
    run = selectors.current_run(organization=request.organization, period=month)
    if run is None:
        raise Http404(f"{month:%Y-%m} has not been allocated.")
    return run


def _period_url(org_slug: str, month: date) -> str:
    return reverse("allocation:period", kwargs={"org_slug": org_slug, "period": f"{month:%Y-%m}"})


def _money(nano: int, currency: str) -> Decimal:
    return quantize_money(nano_to_decimal(int(nano)), currency)


@org_perm_required(Perm.VIEW_ORG)
def overview(request, org_slug: str):
    """``?period=YYYY-MM`` (the picker's box) or the newest allocated month; else how to allocate."""
    form = PeriodForm(request.GET or None)
    chosen = form.period_date()
    if chosen is not None:
        return redirect(_period_url(org_slug, chosen))
    allocated = selectors.allocated_periods(organization=request.organization)
    if allocated:
        return redirect(_period_url(org_slug, allocated[0]))
    return render(
        request,
        "allocation/empty.html",
        {
            "form": form,
            "periods": selectors.known_periods(organization=request.organization),
            "can_allocate": request.membership.has_perm(Perm.PREPARE_PERIOD),
            "has_published": primary_version(organization=request.organization) is not None,
        },
    )


@org_perm_required(Perm.VIEW_ORG)
def period_detail(request, org_slug: str, period: str):
    organization, membership = request.organization, request.membership
    month = _known_month(request, period)
    run = selectors.current_run(organization=organization, period=month)
    visible = visible_owner_ids(membership=membership)
    context = {
        "period": month,
        "period_label": f"{month:%Y-%m}",
        "run": run,
        "billing_period": selectors.billing_period(organization=organization, period=month),
        "periods": selectors.known_periods(organization=organization),
        "sees_all": visible is None,
        "can_allocate": membership.has_perm(Perm.PREPARE_PERIOD),
        "has_published": primary_version(organization=organization) is not None,
        "currency": run.currency if run else organization.base_currency,
    }
    if run is not None:
        rows = selectors.owner_rows(run=run, visible_ids=visible)
        owner_rows = [row for row in rows if not row.is_unallocated]
        unallocated = next((row for row in rows if row.is_unallocated), None)
        # Estimated and true-up are footed together, so they add up to the shown pool; allocated is the
        # sum of the shown owner rows, so allocated + Unallocated is the pool to the cent.
        pool_parts = footed_minor_units({"estimated": run.estimated_nano, "true_up": run.true_up_nano}, run.currency)
        context.update(
            rows=rows,
            owner_count=len(owner_rows),
            shown_total=sum((row.total.amount for row in owner_rows), Decimal(0)),
            pool=_money(run.pool_total_nano, run.currency),
            estimated=pool_parts["estimated"],
            true_up=pool_parts["true_up"],
            unallocated=unallocated.total.amount if unallocated else _money(0, run.currency),
            invoice_totals=sorted(
                (provider, _money(amount, run.currency)) for provider, amount in run.invoice_totals.items()
            ),
            conversion=selectors.run_conversion(run=run),
        )
    return render(request, "allocation/period.html", context)


@require_POST
@org_perm_required(Perm.PREPARE_PERIOD)
def allocate(request, org_slug: str, period: str):
    month = _known_month(request, period)
    try:
        job = allocation_submit(organization=request.organization, period=month, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_period_url(org_slug, month))
    return after_submit(request, job, refused_url=_period_url(org_slug, month))


def _line_rows(request, *, lines, owner, total: Decimal, run, month: date):
    """One page of lines with their footed amounts (adding up to ``total`` over all pages)."""
    amounts = selectors.footed_line_amounts(run=run, owner=owner, total=total)
    rule_filters = drilldown.rule_usage_filters(run.rule_set_version)
    page = Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "line": line,
            "amount": amounts[line.pk],
            "exact": exact_amount(line.amount_nano),
            "explanation": line.explanation.removeprefix("Unallocated: ") if line.is_unallocated else line.explanation,
            "usage_query": drilldown.drilldown_query(line, period=month, rule_filters=rule_filters),
            "share_pct": (line.share * 100).quantize(Decimal("0.01")),
        }
        for line in page
    ]
    return page, rows


@org_perm_required(Perm.VIEW_ORG)
def owner_detail(request, org_slug: str, period: str, code: str):
    organization = request.organization
    month = _known_month(request, period)
    owner = BudgetOwner.objects.filter(organization=organization, code=code).first()
    visible = visible_owner_ids(membership=request.membership)
    if owner is None or (visible is not None and owner.pk not in visible):
        raise Http404(f"No cost centre {code} to show.")
    run = _current_run(request, month)
    total = next(
        (row.amount for row in selectors.run_owner_totals(run=run) if row.code == owner.code), _money(0, run.currency)
    )
    lines = selectors.owner_lines(run=run, owner=owner)
    page, rows = _line_rows(request, lines=lines, owner=owner, total=total, run=run, month=month)
    return render(
        request,
        "allocation/lines.html",
        {
            "period": month,
            "period_label": f"{month:%Y-%m}",
            "run": run,
            "owner": owner,
            "total": total,
            "page": page,
            "rows": rows,
        },
    )


@org_perm_required(Perm.VIEW_ORG)
def unallocated(request, org_slug: str, period: str):
    if not request.membership.has_perm(Perm.VIEW_ALL_COST):
        raise Http404("Unallocated cost is shown to finance and viewers only.")
    month = _known_month(request, period)
    run = _current_run(request, month)
    total = next((row.amount for row in selectors.run_owner_totals(run=run) if not row.code), _money(0, run.currency))
    lines = selectors.owner_lines(run=run, owner=None)
    page, rows = _line_rows(request, lines=lines, owner=None, total=total, run=run, month=month)
    reasons = list(lines.order_by().values("explanation").annotate(amount_nano=Sum("amount_nano"), count=Count("id")))
    footed = footed_minor_units({row["explanation"]: row["amount_nano"] for row in reasons}, run.currency, total=total)
    reasons = sorted(
        (
            {
                "reason": row["explanation"].removeprefix("Unallocated: "),
                "amount": footed[row["explanation"]],
                "count": row["count"],
            }
            for row in reasons
        ),
        key=lambda row: (-row["amount"], row["reason"]),
    )
    return render(
        request,
        "allocation/lines.html",
        {
            "period": month,
            "period_label": f"{month:%Y-%m}",
            "run": run,
            "owner": None,
            "total": total,
            "page": page,
            "rows": rows,
            "reasons": reasons,
        },
    )


@org_perm_required(Perm.PREPARE_PERIOD)
def preview(request, org_slug: str, period: str):
    """What-if: any version of any rule set (drafts too) over the period's inputs, beside the current run."""
    organization = request.organization
    month = _known_month(request, period)
    versions = list(selectors.preview_versions(organization=organization))
    chosen_pk = request.GET.get("version")
    if chosen_pk:
        version = next((v for v in versions if str(v.pk) == chosen_pk), None)
        if version is None:
            raise Http404("No such rule set version.")
    else:
        version = selectors.default_preview_version(organization=organization)
    context = {
        "period": month,
        "period_label": f"{month:%Y-%m}",
        "versions": versions,
        "version": version,
        "result": None,
        "error": "",
    }
    if version is not None:
        try:
            context["result"] = services.allocation_preview(organization=organization, period=month, version=version)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
    if context["result"] is not None:
        result = context["result"]
        context["currency"] = result.computed.currency
        context["current_pool"] = (
            _money(result.current_run.pool_total_nano, result.current_run.currency) if result.current_run else None
        )
    return render(request, "allocation/preview.html", context)
