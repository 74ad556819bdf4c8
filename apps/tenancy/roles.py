"""The one place that says which role may do what.

Views, API permissions and admin pages ask ``role_has_perm`` (or ``Membership.has_perm``);
nothing else compares role names. Later apps add their capabilities here. ``TokenScope`` is the same for
API tokens: what a token may do; views name the one they need.
"""

from django.db import models


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "Org admin"
    FINANCE_ADMIN = "finance_admin", "Finance admin (approver)"
    FINANCE_ANALYST = "finance_analyst", "Finance analyst (preparer)"
    BUDGET_OWNER = "budget_owner", "Budget owner"
    VIEWER = "viewer", "Viewer"


class TokenScope(models.TextChoices):
    ORG_READ = "org:read", "Read organisation settings"
    AUDIT_READ = "audit:read", "Read the audit trail"
    CATALOG_READ = "catalog:read", "Read taxonomy, cost centres and prices"
    CATALOG_WRITE = "catalog:write", "Change taxonomy, cost centres and prices"
    USAGE_WRITE = "usage:write", "Upload usage events"
    USAGE_READ = "usage:read", "Read usage"
    INVOICES_WRITE = "invoices:write", "Upload invoices and cost reports"
    PERIODS_READ = "periods:read", "Read periods, reconciliation and allocation"
    PERIODS_WRITE = "periods:write", "Prepare periods (start reconciliation, submit for review)"
    STATEMENTS_READ = "statements:read", "Read statements"
    JOURNAL_READ = "journal:read", "Read and download journal entries"
    JOURNAL_WRITE = "journal:write", "Acknowledge journal entries posted in the ERP"
    EVENTS_READ = "events:read", "Read the event feed"
    WEBHOOKS_READ = "webhooks:read", "Read webhook endpoints and their deliveries"
    WEBHOOKS_WRITE = "webhooks:write", "Register, change and remove webhook endpoints"
    FX_READ = "fx:read", "Read exchange rates"
    FX_WRITE = "fx:write", "Load the organisation's own exchange rates"


class Perm(models.TextChoices):
    VIEW_ORG = "org.view", "See the organisation"
    MANAGE_SETTINGS = "org.manage_settings", "Change organisation settings"
    MANAGE_MEMBERS = "org.manage_members", "Add, change and remove members"
    MANAGE_API_CLIENTS = "org.manage_api_clients", "Create and revoke API clients"
    SWITCH_MODE = "org.switch_mode", "Switch between showback and chargeback"
    VIEW_AUDIT = "audit.view", "See the organisation's history"
    VIEW_ALL_COST = "cost.view_all", "See every cost centre's spend"
    MANAGE_CATALOG = "catalog.manage", "Maintain taxonomy, cost centres and prices"
    INGEST = "data.ingest", "Upload usage and invoices"
    PREPARE_PERIOD = "period.prepare", "Reconcile, allocate and issue statements"
    APPROVE_PERIOD = "period.approve", "Approve and close periods"
    RESOLVE_DISPUTES = "dispute.resolve", "Work the disputes queue"
    OPEN_DISPUTES = "dispute.open", "Dispute a statement line"
    MANAGE_FX_RATES = "fx.manage_rates", "Load the organisation's own exchange rates"
    MANAGE_WEBHOOKS = "org.manage_webhooks", "Register and manage webhook endpoints"
    MANAGE_LEDGER = "ledger.manage", "Set the recovery accounts journal entries credit"


_FINANCE_COMMON = {
    Perm.VIEW_ORG,
    Perm.VIEW_ALL_COST,
    Perm.MANAGE_CATALOG,
    Perm.INGEST,
    Perm.PREPARE_PERIOD,
    Perm.RESOLVE_DISPUTES,
}

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.ORG_ADMIN: frozenset(
        {
            Perm.VIEW_ORG,
            Perm.MANAGE_SETTINGS,
            Perm.MANAGE_MEMBERS,
            Perm.MANAGE_API_CLIENTS,
            Perm.MANAGE_WEBHOOKS,
            Perm.MANAGE_LEDGER,
            Perm.SWITCH_MODE,
            Perm.VIEW_AUDIT,
            Perm.VIEW_ALL_COST,
            Perm.MANAGE_CATALOG,
        }
    ),
    Role.FINANCE_ADMIN: frozenset(
        _FINANCE_COMMON | {Perm.APPROVE_PERIOD, Perm.VIEW_AUDIT, Perm.MANAGE_FX_RATES, Perm.MANAGE_LEDGER}
    ),
    Role.FINANCE_ANALYST: frozenset(_FINANCE_COMMON),
    Role.BUDGET_OWNER: frozenset({Perm.VIEW_ORG, Perm.OPEN_DISPUTES}),
    Role.VIEWER: frozenset({Perm.VIEW_ORG, Perm.VIEW_ALL_COST}),
}


# A second factor (TOTP or a recovery code, verified in this session) is needed by these roles before they
# use these permissions: approving, overriding, closing and reopening periods, publishing rules, changing
# the organisation's settings and mode, managing members and API clients. An organisation can require
# it of every member for everything (Organization.require_second_factor). API tokens are not affected.
SECOND_FACTOR_ROLES: frozenset[str] = frozenset({Role.ORG_ADMIN, Role.FINANCE_ADMIN})
SECOND_FACTOR_PERMS: frozenset[str] = frozenset(
    {
        Perm.APPROVE_PERIOD,
        Perm.MANAGE_MEMBERS,
        Perm.MANAGE_API_CLIENTS,
        Perm.MANAGE_WEBHOOKS,
        Perm.MANAGE_SETTINGS,
        Perm.SWITCH_MODE,
        Perm.MANAGE_FX_RATES,
    }
)


# Service accounts (API clients) act as themselves, with their own role and scopes, never as the person who
# made them. These permissions are human actions whatever role a token holds: approving, closing and
# reopening a period and overriding a guard (all Perm.APPROVE_PERIOD), and resolving disputes. Maker-checker
# compares people; a token that could sign off would let one person be both maker and checker.
HUMAN_ONLY_PERMS: frozenset[str] = frozenset({Perm.APPROVE_PERIOD, Perm.RESOLVE_DISPUTES})
HUMAN_ONLY_MESSAGE = (
    "Approving, closing and reopening a period, overriding a guard and resolving disputes are human actions: "
    "no API token can take them."
)
# The roles a new token may hold: those whose permissions a token can use. Org admins administer people,
# tokens and settings (no API does that); a finance admin's own permission is approval (human-only); a budget
# owner's is opening disputes in the portal. What is left to a token is preparing (finance analyst) or reading.
TOKEN_ROLES: tuple[str, ...] = (Role.FINANCE_ANALYST, Role.VIEWER)


def token_has_perm(role: str, perm: str) -> bool:
    """What a token holding ``role`` may do: the role's permissions less the human-only ones."""
    return perm not in HUMAN_ONLY_PERMS and role_has_perm(role, perm)


def second_factor_needed(*, role: str, perm: str | None, organization_requires: bool) -> bool:
    if organization_requires:
        return True
    return role in SECOND_FACTOR_ROLES and perm in SECOND_FACTOR_PERMS


def role_has_perm(role: str, perm: str) -> bool:
    return perm in ROLE_PERMS.get(role, frozenset())
