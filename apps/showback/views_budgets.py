"""The budgets page: budget against actual per cost centre, rolled up the tree, for a month and the year to it,
with each threshold's state. Finance and viewers see the organisation; a budget owner sees their subtree."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from apps.core.calendar import month_after, parse_period
from apps.owners.selectors import visible_owner_ids
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from .budgets import budget_months, budget_report

PAGE_SIZE = 100


def _month(request, today: date) -> date:
    current = date(today.year, today.month, 1)
    text = request.GET.get("month", "").strip()
    if not text:
        return current
    try:
        return parse_period(text)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return current


@org_perm_required(Perm.VIEW_ORG)
def budgets(request, org_slug: str):
    today = timezone.now().date()
    month = _month(request, today)
    organization = request.organization
    visible_ids = visible_owner_ids(membership=request.membership)
    report = budget_report(organization=organization, month=month, today=today, visible_ids=visible_ids)
    months = budget_months(organization=organization, around=month, today=today)
    return render(
        request,
        "showback/budgets.html",
        {
            "report": report,
            "page": Paginator(report.rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "months": months,
            "month": month,
            "next_month": month_after(month),
            "query": f"month={month:%Y-%m}",
            "organisation_wide": visible_ids is None,
        },
    )
