"""The forecasts page (this month's forecast per cost centre, live from the cube, and the accuracy of the
closed months' snapshots) and the alerts page (what the scheduled evaluations raised; finance acknowledges).
Budget owners see their subtree's cost centres and alerts; finance and viewers see the organisation."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.owners.selectors import visible_owner_ids
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import forecast as fc
from .models import Alert
from .selectors_forecasts import forecast_accuracy, month_forecasts
from .services import alert_acknowledge
from .spend import owner_month_spend

ALERTS_PAGE_SIZE = 50


@org_perm_required(Perm.VIEW_ORG)
def forecasts(request, org_slug: str):
    organization = request.organization
    visible = visible_owner_ids(membership=request.membership)
    month = timezone.now().date().replace(day=1)
    rows = month_forecasts(organization=organization, month=month, visible_ids=visible)
    to_date = owner_month_spend(organization=organization, first_month=month, last_month=month)
    month_to_date = {key: by_month.get(month, 0) for key, by_month in to_date.items()}
    organisation_to_date = sum(month_to_date.values())
    table = [
        {
            "row": row,
            "to_date": organisation_to_date if row.owner is None else month_to_date.get(row.owner.pk, 0),
        }
        for row in rows
    ]
    return render(
        request,
        "showback/forecasts.html",
        {
            "month": month,
            "rows": table,
            "accuracy": forecast_accuracy(organization=organization, visible_ids=visible),
            "currency": organization.base_currency,
            "mature_pct": fc.MATURE_APE * 100,
            "min_ets_months": fc.MIN_ETS_MONTHS,
            "default_method": fc.DEFAULT_METHOD,
        },
    )


def _alerts_visible(request):
    alerts = Alert.objects.filter(organization=request.organization).select_related("owner", "acknowledged_by")
    visible = visible_owner_ids(membership=request.membership)
    if visible is not None:
        alerts = alerts.filter(owner_id__in=visible)
    return alerts


@org_perm_required(Perm.VIEW_ORG)
def alerts(request, org_slug: str):
    queryset = _alerts_visible(request)
    state = request.GET.get("state", "")
    if state == "open":
        queryset = queryset.filter(acknowledged_at__isnull=True)
    kind = request.GET.get("kind", "")
    if kind in Alert.Kind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, ALERTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "showback/alerts.html",
        {
            "page": page,
            "state": state,
            "kind": kind,
            "kinds": Alert.Kind.choices,
            "query": urlencode({k: v for k, v in (("kind", kind), ("state", state)) if v}),
        },
    )


@require_POST
@org_perm_required(Perm.PREPARE_PERIOD)
def alert_ack(request, org_slug: str, pk: int):
    alert = get_object_or_404(_alerts_visible(request), pk=pk)
    alert_acknowledge(alert=alert, actor=request.user)
    messages.success(request, f"Acknowledged: {alert.title}")
    return redirect("showback:alerts", org_slug=org_slug)
