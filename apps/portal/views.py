from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.reconciliation.selectors import readiness_for
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm
from apps.tenancy.selectors import membership_list, memberships_for_user

from .selectors import owner_home_panel


@login_required
def switcher(request):
    memberships = memberships_for_user(user=request.user)
    if len(memberships) == 1:
        return redirect("portal:home", org_slug=memberships[0].organization.slug)
    return render(request, "portal/switcher.html", {"memberships": memberships})


@org_perm_required(Perm.VIEW_ORG)
def home(request, org_slug: str):
    organization = request.organization
    return render(
        request,
        "portal/home.html",
        {
            "organization": organization,
            "members": membership_list(organization=organization),
            "readiness": readiness_for(membership=request.membership),
            "owner_panel": owner_home_panel(membership=request.membership),
        },
    )


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
