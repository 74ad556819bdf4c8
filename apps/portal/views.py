from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.reconciliation.selectors import readiness_for
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm
from apps.tenancy.selectors import memberships_for_user

from .inbox import action_inbox
from .selectors import home_spend, owner_home_panel


@login_required
def switcher(request):
    memberships = memberships_for_user(user=request.user)
    if len(memberships) == 1:
        return redirect("portal:home", org_slug=memberships[0].organization.slug)
    return render(request, "portal/switcher.html", {"memberships": memberships})


def _now():
    """The moment the home page is about (a function, so that tests can pick the day)."""
    return timezone.now()


@org_perm_required(Perm.VIEW_ORG)
def home(request, org_slug: str):
    """Three questions for every member: what did we spend, compared with what, and what needs me; then the
    budget owner's statements and the readiness for chargeback."""
    organization = request.organization
    now = _now()
    spend = home_spend(membership=request.membership, today=now.date())
    spans = [spend.month_to_date, spend.last_month, spend.last_year] if spend.has_usage else []
    return render(
        request,
        "portal/home.html",
        {
            "organization": organization,
            "spend": spend,
            "spend_spans": spans,
            "mover_tables": [("Teams", spend.movers.get("team", [])), ("Models", spend.movers.get("model", []))],
            "inbox": action_inbox(membership=request.membership, now=now),
            "readiness": readiness_for(membership=request.membership),
            "owner_panel": owner_home_panel(membership=request.membership),
        },
    )


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
