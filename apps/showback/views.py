from datetime import date

from django.shortcuts import render
from django.utils import timezone

from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm
from apps.usage.selectors import latest_usage_day, visible_team_values

from .dashboard import dashboard as dashboard_figures
from .dashboard import month_range, months_back
from .dashboard import trends as trend_figures
from .forms import PICKABLE_MONTHS, DashboardForm
from .options import DETAIL_OPTION_MONTHS, picker_options


def _anchor(organization) -> tuple[date, str]:
    """The month "this month" means: the calendar month, or, when it has no usage yet, the latest month
    with usage (with a note saying so)."""
    today = timezone.now().date().replace(day=1)
    latest = latest_usage_day(organization=organization)
    if latest is None or latest >= today:
        return today, ""
    month = latest.replace(day=1)
    return month, f"No usage yet in {today:%B %Y}: this month means {month:%B %Y}, the latest month with usage."


@org_perm_required(Perm.VIEW_ORG)
def dashboard(request, org_slug: str):
    organization = request.organization
    anchor, note = _anchor(organization)
    team_values = visible_team_values(organization=organization, membership=request.membership)
    options, labels = picker_options(
        organization=organization,
        team_values=team_values,
        since=months_back(anchor, PICKABLE_MONTHS - 1),
        recent=months_back(anchor, DETAIL_OPTION_MONTHS - 1),
    )
    form = DashboardForm(request.GET or None, anchor=anchor, options=options, labels=labels)
    query = form.query()
    figures = dashboard_figures(organization=organization, membership=request.membership, query=query)
    return render(
        request,
        "showback/dashboard.html",
        {
            "form": form,
            "figures": figures,
            "query": figures.query,
            "anchor_note": note,
            "currency": organization.base_currency,
            "breakdown_label": labels.get(figures.query.by, figures.query.by),
            "tab": "dashboard",
        },
    )


@org_perm_required(Perm.VIEW_ORG)
def trends(request, org_slug: str):
    organization = request.organization
    anchor, note = _anchor(organization)
    figures = trend_figures(organization=organization, membership=request.membership, last_month=anchor)
    return render(
        request,
        "showback/trends.html",
        {
            "figures": figures,
            "anchor_note": note,
            "currency": organization.base_currency,
            "months": month_range(figures.months[0], figures.months[-1]),
            "tab": "trends",
        },
    )
