"""Periods pages. Reading needs PREPARE_PERIOD or VIEW_ALL_COST (finance roles, org admins, viewers);
each transition needs what ``workflow.TRANSITIONS`` says, checked by the service, which also explains
every refusal (shown on the period's page with the status the API would answer)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.calendar import parse_period, period_bounds
from apps.core.tables import Column, Table, nano_money
from apps.tenancy.permissions import org_any_perm_required, require_second_factor
from apps.tenancy.roles import Perm

from . import jobs, selectors
from .forms import TransitionForm
from .late_data import arrived_after_run, late_arrivals, late_data_for
from .services import PeriodTransitionError, period_transition
from .workflow import TRANSITIONS, track

READ_PERMS = (Perm.PREPARE_PERIOD, Perm.VIEW_ALL_COST)
BOARD_PAGE_SIZE = 24


periods_read_required = org_any_perm_required(*READ_PERMS, what="billing periods")


def _month_or_404(request, period: str):
    month = parse_period(period)
    if not selectors.month_exists(organization=request.organization, period=month):
        raise Http404(f"{period} has no usage, invoices or billing period in {request.organization.name}.")
    return month


def _figure(row, name):
    return getattr(row.figures, name, None) if row.figures is not None else None


def _late_text(late) -> str:
    parts = []
    if late.usage_rows:
        parts.append(f"{late.usage_rows} usage row{'s' if late.usage_rows != 1 else ''}")
    if late.invoice_lines:
        parts.append(f"{late.invoice_lines} invoice line{'s' if late.invoice_lines != 1 else ''}")
    return ", ".join(parts)


def _readiness_text(row) -> str:
    bp = row.billing_period
    if bp.state == "closed":
        return "Closed" + (f" {bp.closed_at:%Y-%m-%d}" if bp.closed_at else "")
    if row.readiness.ready:
        return row.readiness.text
    return "blocked: " + "; ".join(row.readiness.messages or [row.readiness.text])


def board_table(*, base_currency: str, fact_labels: list[str]) -> Table:
    """The board's columns. Its figures are computed for the months of one page, so it sorts by the period
    only; the fact columns are whatever the registered providers report."""
    return Table(
        "periods",
        (
            Column("period", "Period", value="label", order=lambda month: month),
            Column("version", "Version", value="billing_period.version", in_page=False),
            Column("state", "State", value="billing_period.get_state_display"),
            Column(
                "estimated",
                f"Estimated ({base_currency})",
                value=lambda r: nano_money(_figure(r, "estimated_nano"), base_currency),
                css="num",
            ),
            Column(
                "invoiced",
                f"Invoiced ({base_currency})",
                value=lambda r: nano_money(_figure(r, "invoiced_nano"), base_currency),
                css="num",
            ),
            Column("variance", "Variance %", value=lambda r: _figure(r, "variance_pct"), css="num"),
            Column("figures", "Figures from", value=lambda r: _figure(r, "source"), in_page=False),
            Column("rate_missing", "Rate missing", value=lambda r: _figure(r, "fx_gap"), in_page=False),
            Column("late", "Late data", value=lambda r: _late_text(r.late)),
            *(
                Column(f"fact{index}", label, value=lambda r, index=index: r.facts[index], css="num")
                for index, label in enumerate(fact_labels)
            ),
            Column("readiness", "Readiness", value=_readiness_text),
        ),
        note="The board sorts by period only: its figures are worked out a page of months at a time.",
    )


@periods_read_required
def board(request, org_slug: str):
    organization = request.organization
    fact_labels = list(selectors.facts_for(organization=organization, billing_periods=[]))
    table = board_table(base_currency=organization.base_currency, fact_labels=fact_labels).bind(request)
    months = table.sort(selectors.months(organization=organization))
    if table.wants_export:
        # Every month (the board has one row a month, a few dozen), with the same figures the pages show.
        _labels, all_rows = selectors.board(
            organization=organization, periods=months[: table.table.cap], actor=request.user
        )
        return table.export(all_rows)
    page = Paginator(months, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    fact_labels, rows = selectors.board(organization=organization, periods=list(page.object_list), actor=request.user)
    return render(
        request,
        "periods/board.html",
        {
            "page": page,
            "rows": rows,
            "fact_labels": fact_labels,
            "late_rows": [row for row in rows if row.late.flagged],
            "query": table.query,
            "table": table,
        },
    )


def _detail(request, month, *, errors=None, status=200, form=None, attempted=None):
    organization = request.organization
    billing_period = selectors.billing_period_or_unsaved(organization=organization, period=month)
    first, after = period_bounds(month, start_day=organization.period_start_day)
    figures = selectors.figures_for(organization=organization, periods=[month]).get(month)
    run = getattr(figures, "run", None)
    facts = selectors.facts_for(organization=organization, billing_periods=[billing_period])
    context = {
        "billing_period": billing_period,
        "period_label": billing_period.label,
        "first_day": first,
        "after_day": after,
        "track": track(billing_period=billing_period),
        "figures": figures,
        "run": run,
        "providers": list(run.lines.filter(level="provider").order_by("provider")) if run else [],
        "late": late_data_for(organization=organization, billing_periods=[billing_period]).get(billing_period.pk),
        "arrivals": list(late_arrivals(billing_period=billing_period)) if billing_period.pk else [],
        "facts": [(label, values.get(billing_period.pk)) for label, values in facts.items()],
        "errors": errors or [],
        "attempted": attempted,
        "form": form,
        "allocation_url": f"/o/{organization.slug}/allocation/{billing_period.label}/",
        "transitions": TRANSITIONS,
        **selectors.checks_for_page(organization=organization, billing_period=billing_period, actor=request.user),
    }
    t = context["transition"]
    context["may_transition"] = request.membership.has_perm(t.perm)
    context["may_override"] = request.membership.has_perm(Perm.APPROVE_PERIOD)
    context["may_prepare"] = request.membership.has_perm(Perm.PREPARE_PERIOD)
    context["stale_run"] = arrived_after_run(billing_period=billing_period, arrivals=context["arrivals"], run=run)
    # A transition a worker is doing now (submit, close, send back): the page says so and links to it.
    context["active_job"] = jobs.active_period_job(organization=request.organization, period=billing_period.period)
    if not billing_period.is_allocatable:
        context["allocate_blocker"] = (
            f"{billing_period.label} is {billing_period.get_state_display().lower()}: its allocation is frozen "
            "because statements were built from it."
        )
    return render(request, "periods/detail.html", context, status=status)


@periods_read_required
def detail(request, org_slug: str, period: str):
    return _detail(request, _month_or_404(request, period))


@require_POST
@periods_read_required
def transition(request, org_slug: str, period: str):
    month = _month_or_404(request, period)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _detail(request, month, errors=["Choose a transition."], status=400, form=form)
    name = form.cleaned_data["transition"]
    # Approving, closing, reopening and overriding the tolerance need a second factor from an admin
    # (apps.tenancy.roles.SECOND_FACTOR_PERMS); the service still decides whether the role may at all.
    require_second_factor(request, Perm.APPROVE_PERIOD if form.cleaned_data["override"] else TRANSITIONS[name].perm)
    args = {
        "organization": request.organization,
        "period": month,
        "transition": name,
        "actor": request.user,
        "reason": form.cleaned_data["reason"],
        "override": form.cleaned_data["override"],
    }
    try:
        if jobs.runs_as_job(name):
            # Checked now (a refusal shows here at once), done by a worker: issuing statements takes a while.
            return _after_job(request, jobs.period_transition_submit(**args), name)
        active = jobs.active_period_job(organization=request.organization, period=month)
        if active is not None:
            raise jobs.busy_error(active)
        billing_period = period_transition(**args)
    except PeriodTransitionError as exc:
        return _detail(
            request, month, errors=exc.messages, status=exc.status_code, form=form, attempted=TRANSITIONS[name]
        )
    return _moved(request, billing_period, name)


def _moved(request, billing_period, name: str):
    suffix = f" (version {billing_period.version})" if name == "reopen" else ""
    state = billing_period.get_state_display().lower()
    messages.success(request, f"{TRANSITIONS[name].label}: {billing_period.label} is now {state}{suffix}.")
    return redirect("periods:detail", org_slug=request.organization.slug, period=billing_period.label)


def _after_job(request, job, name: str):
    """Where a transition job sends the person: the period's page once it is done (at once without a
    worker), else the job's page, which follows it there."""
    if job.status == job.Status.SUCCEEDED:
        billing_period = selectors.billing_period_or_unsaved(
            organization=request.organization, period=parse_period(job.params["period"])
        )
        return _moved(request, billing_period, name)
    if job.status == job.Status.FAILED:
        messages.error(request, f"{TRANSITIONS[name].label} failed: {job.error_message}")
    else:
        messages.info(request, f"{job.title}: a worker is doing it; this page follows it.")
    return redirect(reverse("jobs:detail", kwargs={"org_slug": request.organization.slug, "pk": job.pk}) + "?follow=1")


@periods_read_required
def timeline(request, org_slug: str, period: str):
    month = _month_or_404(request, period)
    billing_period = selectors.billing_period_or_unsaved(organization=request.organization, period=month)
    page = Paginator(selectors.timeline(billing_period=billing_period), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "periods/timeline.html",
        {"billing_period": billing_period, "period_label": billing_period.label, "page": page},
    )
