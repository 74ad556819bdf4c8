"""Periods pages. Reading needs PREPARE_PERIOD or VIEW_ALL_COST (finance roles, org admins, viewers);
each transition needs what ``workflow.TRANSITIONS`` says, checked by the service, which also explains
every refusal (shown on the period's page with the status the API would answer)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.calendar import parse_period, period_bounds
from apps.tenancy.permissions import org_any_perm_required, require_second_factor
from apps.tenancy.roles import Perm

from . import selectors
from .forms import TransitionForm
from .late_data import late_arrivals, late_data_for
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


@periods_read_required
def board(request, org_slug: str):
    organization = request.organization
    page = Paginator(selectors.months(organization=organization), BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    fact_labels, rows = selectors.board(organization=organization, periods=list(page.object_list), actor=request.user)
    return render(
        request,
        "periods/board.html",
        {
            "page": page,
            "rows": rows,
            "fact_labels": fact_labels,
            "late_rows": [row for row in rows if row.late.flagged],
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
    try:
        billing_period = period_transition(
            organization=request.organization,
            period=month,
            transition=name,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            override=form.cleaned_data["override"],
        )
    except PeriodTransitionError as exc:
        return _detail(
            request, month, errors=exc.messages, status=exc.status_code, form=form, attempted=TRANSITIONS[name]
        )
    suffix = f" (version {billing_period.version})" if name == "reopen" else ""
    state = billing_period.get_state_display().lower()
    messages.success(request, f"{TRANSITIONS[name].label}: {billing_period.label} is now {state}{suffix}.")
    return redirect("periods:detail", org_slug=org_slug, period=billing_period.label)


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
