"""The portal's navigation: entries grouped by what people do, each shown to the roles that can act on it.

``NAV_GROUPS`` is the one list. A group is a heading (Spend, Close, Catalog, Data, Admin) with its entries in
order; an entry names its page (a URL name inside the organisation) and the permissions of which a member
needs *one* to see it. An entry is shown only to roles that can open its page and have a use for it: a
budget owner sees Home, Usage, Statements and Disputes, not the organisation's members, tagging, price book
(negotiated prices), allocation or rules, although some of those pages stay readable to them by URL (their
own permission decides; hiding an entry changes nothing on the page). A group with no entry for a member is
left out.

Apps that come later add their entries to a group here (e.g. showback's pages go into Spend after Home);
the tests in tests/portal/test_navigation.py list every role's entries, so adding one shows up there.
"""

from dataclasses import dataclass

from django.urls import reverse

from apps.tenancy.roles import Perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perms: tuple[str, ...]  # any one of them shows the entry


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


# Who reads what: VIEW_ALL_COST is finance, org admins and viewers (the organisation's cost); a budget
# owner has VIEW_ORG (their own subtree) and OPEN_DISPUTES.
_ALL_COST = (Perm.VIEW_ALL_COST,)

NAV_GROUPS: list[NavGroup] = [
    NavGroup(
        "Spend",
        (
            NavItem("Home", "portal:home", (Perm.VIEW_ORG,)),
            NavItem("Showback", "showback:dashboard", (Perm.VIEW_ORG,)),
            # Budget against actual: finance sees the organisation, a budget owner their subtree.
            NavItem("Budgets", "showback:budgets", (Perm.VIEW_ORG,)),
            NavItem("Forecasts", "showback:forecasts", (Perm.VIEW_ORG,)),
            # Budget and spike alerts: finance acknowledges them; a budget owner sees their subtree's.
            NavItem("Alerts", "showback:alerts", (Perm.VIEW_ORG,)),
        ),
    ),
    NavGroup(
        "Close",
        (
            NavItem("Periods", "periods:board", (Perm.VIEW_ALL_COST, Perm.PREPARE_PERIOD)),
            NavItem("Reconciliation", "reconciliation:overview", (Perm.VIEW_ALL_COST, Perm.PREPARE_PERIOD)),
            NavItem("Allocation", "allocation:overview", _ALL_COST),
            NavItem("Allocation rules", "rules:list", _ALL_COST),
            NavItem("Statements", "statements:list", (Perm.VIEW_ORG,)),
            # Finance works the queue; a budget owner follows their own disputes; viewers read them.
            NavItem("Disputes", "disputes:list", (Perm.RESOLVE_DISPUTES, Perm.OPEN_DISPUTES, Perm.VIEW_ALL_COST)),
            # The background work of the close (runs, issuing statements): who prepares and approves follows it.
            NavItem("Jobs", "jobs:list", (Perm.PREPARE_PERIOD,)),
        ),
    ),
    NavGroup(
        "Catalog",
        (
            NavItem("Cost centres", "owners:list", (Perm.VIEW_ALL_COST, Perm.MANAGE_CATALOG)),
            NavItem("Tagging", "taxonomy:dimensions", (Perm.VIEW_ALL_COST, Perm.MANAGE_CATALOG)),
            NavItem("Prices", "pricing:book", (Perm.VIEW_ALL_COST, Perm.MANAGE_CATALOG)),
            NavItem("Exchange rates", "fx:exchange_rates", (Perm.VIEW_ALL_COST, Perm.MANAGE_SETTINGS)),
            # The accounts journal entries credit; each period's journal is reached from its page.
            NavItem("Recovery accounts", "journals:recovery_accounts", (Perm.MANAGE_LEDGER, Perm.VIEW_ALL_COST)),
        ),
    ),
    NavGroup(
        "Data",
        (
            NavItem("Usage", "usage:explorer", (Perm.VIEW_ORG,)),
            NavItem("Usage imports", "usage:jobs", (Perm.INGEST,)),
            NavItem("Invoices", "invoices:list", _ALL_COST),
            # Provider connectors: finance pulls now, org admins keep the credentials.
            NavItem("Connectors", "connectors:list", (Perm.INGEST, Perm.MANAGE_SETTINGS)),
        ),
    ),
    NavGroup(
        "Admin",
        (
            NavItem("Members", "accounts:members", (Perm.MANAGE_MEMBERS, Perm.VIEW_ALL_COST)),
            NavItem("API clients", "accounts:api_clients", (Perm.MANAGE_API_CLIENTS,)),
            NavItem("Webhooks", "webhooks:endpoints", (Perm.MANAGE_WEBHOOKS,)),
            NavItem("History", "audit:history", (Perm.VIEW_AUDIT,)),
            NavItem("Settings", "accounts:settings", (Perm.MANAGE_SETTINGS,)),
        ),
    ),
]


# Pages that belong to another group than their app's first entry: a period's journal is part of the close,
# though the recovery accounts it credits are catalog.
PAGE_GROUPS = {"journals:period": "Close"}


def nav_groups_for(request) -> list[dict]:
    """The member's groups, each ``{"label", "active", "items": [{"label", "url", "active"}]}``; [] outside
    an organisation. ``active`` marks the current page and its group (the subnav shows that group's entries)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return []
    current = request.resolver_match.view_name if request.resolver_match else ""
    kwargs = {"org_slug": request.organization.slug}
    groups = []
    for group in NAV_GROUPS:
        items = [
            {"label": item.label, "url": reverse(item.url_name, kwargs=kwargs), "active": current == item.url_name}
            for item in group.items
            if any(membership.has_perm(perm) for perm in item.perms)
        ]
        if items:
            groups.append({"label": group.label, "items": items, "active": any(i["active"] for i in items)})
    # A page that is not an entry itself (a statement, a run) belongs to the group of its app's first entry.
    if groups and not any(group["active"] for group in groups) and current in PAGE_GROUPS:
        for group in groups:
            group["active"] = group["label"] == PAGE_GROUPS[current]
    if groups and not any(group["active"] for group in groups) and ":" in current:
        namespace = current.split(":", 1)[0] + ":"
        for group, source in ((g, s) for g in groups for s in NAV_GROUPS if s.label == g["label"]):
            if any(item.url_name.startswith(namespace) for item in source.items):
                group["active"] = True
                break
    return groups


def nav_for(request) -> list[dict]:
    """Every entry the member sees, in order, without the groups."""
    return [item for group in nav_groups_for(request) for item in group["items"]]
