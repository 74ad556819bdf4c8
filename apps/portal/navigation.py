"""The portal's navigation, by role. Later apps add their entries here."""

from dataclasses import dataclass

from django.urls import reverse

from apps.tenancy.roles import Perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: str


NAV_ITEMS = [
    NavItem("Home", "portal:home", Perm.VIEW_ORG),
    NavItem("Usage", "usage:explorer", Perm.VIEW_ORG),
    NavItem("Members", "accounts:members", Perm.VIEW_ORG),
    NavItem("Cost centres", "owners:list", Perm.VIEW_ORG),
    NavItem("Tagging", "taxonomy:dimensions", Perm.VIEW_ORG),
    NavItem("Prices", "pricing:book", Perm.VIEW_ORG),
    NavItem("Invoices", "invoices:list", Perm.INGEST),
    NavItem("Periods", "periods:board", Perm.VIEW_ALL_COST),
    NavItem("Reconciliation", "reconciliation:overview", Perm.PREPARE_PERIOD),
    NavItem("Allocation", "allocation:overview", Perm.VIEW_ORG),
    NavItem("Allocation rules", "rules:list", Perm.VIEW_ALL_COST),
    NavItem("Statements", "statements:list", Perm.VIEW_ORG),
    # Finance works the queue; a budget owner follows their own disputes (no role has both perms).
    NavItem("Disputes", "disputes:list", Perm.RESOLVE_DISPUTES),
    NavItem("Disputes", "disputes:list", Perm.OPEN_DISPUTES),
    NavItem("Usage imports", "usage:jobs", Perm.INGEST),
    NavItem("API clients", "accounts:api_clients", Perm.MANAGE_API_CLIENTS),
    NavItem("History", "audit:history", Perm.VIEW_AUDIT),
    NavItem("Settings", "accounts:settings", Perm.MANAGE_SETTINGS),
]


def nav_for(request) -> list[dict]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return []
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = []
    for item in NAV_ITEMS:
        if membership.has_perm(item.perm):
            items.append(
                {
                    "label": item.label,
                    "url": reverse(item.url_name, kwargs={"org_slug": request.organization.slug}),
                    "active": current == item.url_name,
                }
            )
    return items
