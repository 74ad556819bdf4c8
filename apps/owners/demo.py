"""Demo cost centres and budgets for "acme" (USD, US01) and "globex" (EUR, DE01).

The taxonomy and usage demo data rely on these exact codes and team values. Everything goes
through the catalog import, so it is validated, audited and idempotent (a second run finds every
row unchanged).
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from . import catalog_io
from .models import BudgetOwner, BudgetThreshold
from .services import budget_threshold_create

GL_ACCOUNT = "6420-AI-Services"

# code, name, parent, team tag value (None above team level), ERP department, ERP class, central
DEMO_COST_CENTRES = [
    ("CC-1000", "Product & Engineering", None, None, "ENG", "R&D", False),
    ("CC-1100", "Search & Discovery", "CC-1000", None, "ENG-SEARCH", "R&D", False),
    ("CC-1101", "Search", "CC-1100", "search", "ENG-SEARCH", "R&D", False),
    ("CC-1102", "Recommendations", "CC-1100", "recommendations", "ENG-SEARCH", "R&D", False),
    ("CC-1200", "Customer Experience", "CC-1000", None, "ENG-CX", "R&D", False),
    ("CC-1201", "Support Automation", "CC-1200", "support", "ENG-CX", "R&D", False),
    ("CC-1202", "Conversational Assistant", "CC-1200", "assistant", "ENG-CX", "R&D", False),
    ("CC-1300", "Data & ML", "CC-1000", None, "ENG-DATA", "R&D", False),
    ("CC-1301", "Data Platform", "CC-1300", "data-platform", "ENG-DATA", "R&D", False),
    ("CC-1302", "ML Research", "CC-1300", "ml-research", "ENG-DATA", "R&D", False),
    ("CC-2000", "Go-to-Market", None, None, "GTM", "S&M", False),
    ("CC-2101", "Marketing Content", "CC-2000", "marketing", "MKT", "S&M", False),
    ("CC-2102", "Sales Engineering", "CC-2000", "sales-eng", "SALES", "S&M", False),
    ("CC-2103", "Legal Operations", "CC-2000", "legal-ops", "LEGAL", "G&A", False),
    ("CC-2104", "Finance Operations", "CC-2000", "finance-ops", "FIN", "G&A", False),
    ("CC-9000", "Central Platform", None, None, "PLATFORM", "Shared Services", True),
    ("CC-9001", "AI Platform & Gateway", "CC-9000", "platform", "PLATFORM", "Shared Services", True),
    ("CC-9002", "Observability", "CC-9000", "observability", "PLATFORM", "Shared Services", True),
]

TEAM_OF_COST_CENTRE = {code: team for code, _, _, team, _, _, _ in DEMO_COST_CENTRES if team}

# The demo's budgeting rule: each team plans a month at its spend of the month before times its planned
# growth. Most plan for the organisation's growth (about 15% a month) with a margin and come in a little
# under; ML research plans generously; the conversational assistant, growing fastest, plans too little and
# goes over. December 2026, the demo's current month: data-platform's budget was halved before its
# 3 December backfill (apps/usage/demo.py) and the assistant kept its plan flat, so thresholds fire.
PLANNED_GROWTH = {code: Decimal("1.20") for code in TEAM_OF_COST_CENTRE} | {
    "CC-1302": Decimal("1.35"),
    "CC-1202": Decimal("1.10"),
}
PLAN_OVERRIDES = {("CC-1301", date(2026, 12, 1)): Decimal("0.50"), ("CC-1202", date(2026, 12, 1)): Decimal("0.95")}
FIRST_MONTH_MARGIN = Decimal("1.05")  # the first month of the history: its own spend plus 5%

SITES = {
    # slug: (company code, engineering location, go-to-market location)
    "acme": ("US01", "US-SFO", "US-NYC"),
    "globex": ("DE01", "DE-BER", "DE-MUC"),
}


def owner_rows(*, organization: Organization) -> list[dict]:
    company_code, eng_location, gtm_location = SITES.get(organization.slug, SITES["acme"])
    rows = []
    for code, name, parent, _team, department, erp_class, central in DEMO_COST_CENTRES:
        rows.append(
            {
                "code": code,
                "name": name,
                "parent": parent,
                "gl_account": GL_ACCOUNT,
                "department": department,
                "company_code": company_code,
                "erp_class": erp_class,
                "location": gtm_location if code.startswith("CC-2") else eng_location,
                "owner_users": [f"{organization.slug}-owner"] if code == "CC-1100" else [],
                "is_active": True,
                "is_central": central,
            }
        )
    return rows


def _round_budget(amount: Decimal) -> Decimal:
    """As people write budgets: to 5 from 100, to the unit from 10, to the cent below (tiny test volumes)."""
    if amount >= 100:
        return (amount / 5).quantize(Decimal(1), ROUND_HALF_UP) * 5
    if amount >= 10:
        return amount.quantize(Decimal(1), ROUND_HALF_UP)
    return max(amount.quantize(Decimal("0.01"), ROUND_HALF_UP), Decimal("0.01"))


def planned_budget_rows(
    *, organization: Organization, months: list[date], spend: dict[str, dict[date, Decimal | None]]
) -> list[dict]:
    """Budgets near what the teams spend, by the demo's rule (``PLANNED_GROWTH``): a team-level cost
    centre's budget for a month is its spend of the month before times its planned growth (the first month:
    its own spend plus 5%); when the month before has no known spend (``None``: no exchange rate to convert
    it yet) the budget before it carries forward at the same growth. ``spend`` is {code: {month: amount in
    the organisation's currency}}; a cost centre without any is left without budgets. Pure: same spend,
    same rows, so a second seeding changes nothing."""
    rows = []
    for code, growth in PLANNED_GROWTH.items():
        by_month = spend.get(code) or {}
        if not any(by_month.values()):
            continue
        previous_budget = None
        for index, month in enumerate(months):
            before = by_month.get(months[index - 1]) if index else None
            if index == 0:
                planned = (by_month.get(month) or Decimal(0)) * FIRST_MONTH_MARGIN
            elif before is not None:
                planned = before * growth
            elif previous_budget is not None:
                planned = previous_budget * growth
            else:
                continue
            planned *= PLAN_OVERRIDES.get((code, month), Decimal(1))
            previous_budget = _round_budget(planned)
            rows.append(
                {
                    "owner": code,
                    "period": f"{month:%Y-%m}",
                    "amount": f"{previous_budget:.2f}",
                    "currency": organization.base_currency,
                }
            )
    return rows


@transaction.atomic
def seed_budgets(*, organization: Organization, rows: list[dict], stdout) -> None:
    """Set the demo budgets (``planned_budget_rows``) through the catalog import: validated, audited, and a
    second run finds every row unchanged."""
    errors = catalog_io.validate_budgets(organization=organization, rows=rows, context={})
    if errors:
        raise RuntimeError(f"demo budgets for {organization.slug} are invalid: {errors}")
    counts = catalog_io.apply_budgets(organization=organization, rows=rows, actor=None)
    stdout.write(
        f"  {organization.slug}: budgets {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged (near each team's spend)"
    )


@transaction.atomic
def seed_demo(*, organization: Organization, stdout) -> None:
    """The cost centres. Their budgets follow the teams' spend, so they are set after the demo usage
    (``apps/usage/demo.py`` calls ``planned_budget_rows`` and ``seed_budgets``)."""
    owners = owner_rows(organization=organization)
    errors = catalog_io.validate_section(organization=organization, rows=owners, context={})
    if errors:
        raise RuntimeError(f"demo cost centres for {organization.slug} are invalid: {errors}")
    owner_counts = catalog_io.apply_section(organization=organization, rows=owners, actor=None)
    stdout.write(
        f"  {organization.slug}: cost centres {owner_counts['created']} created, {owner_counts['updated']} updated"
    )
    made = _seed_thresholds(organization=organization)
    stdout.write(f"  {organization.slug}: budget thresholds {made} created (80% and 100% of actual, 100% of forecast)")


# Each team-level cost centre's alerts: 80% and 100% of the month's actual spend, 100% of the forecast to
# month end.
THRESHOLDS = [
    (Decimal("80"), BudgetThreshold.Basis.ACTUAL),
    (Decimal("100"), BudgetThreshold.Basis.ACTUAL),
    (Decimal("100"), BudgetThreshold.Basis.FORECAST),
]


def _seed_thresholds(*, organization: Organization) -> int:
    made = 0
    with organization_scope(organization):
        existing = set(BudgetThreshold.objects.values_list("owner__code", "pct", "basis"))
        for owner in BudgetOwner.objects.filter(code__in=TEAM_OF_COST_CENTRE).order_by("code"):
            for pct, basis in THRESHOLDS:
                if (owner.code, pct, basis) not in existing:
                    budget_threshold_create(organization=organization, actor=None, owner=owner, pct=pct, basis=basis)
                    made += 1
    return made
