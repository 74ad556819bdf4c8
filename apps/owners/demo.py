"""Demo cost centres and budgets for "acme" (USD, US01) and "globex" (EUR, DE01).

The taxonomy and usage demo data rely on these exact codes and team values. Everything goes
through the catalog import, so it is validated, audited and idempotent (a second run finds every
row unchanged).
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Organization

from . import catalog_io

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

# Monthly AI budget of each team-level cost centre, in the organisation's currency.
MONTHLY_BUDGET = {
    "CC-1101": Decimal("18000"),
    "CC-1102": Decimal("12000"),
    "CC-1201": Decimal("9000"),
    "CC-1202": Decimal("15000"),
    "CC-1301": Decimal("7000"),
    "CC-1302": Decimal("22000"),
    "CC-2101": Decimal("4000"),
    "CC-2102": Decimal("3000"),
    "CC-2103": Decimal("1500"),
    "CC-2104": Decimal("1200"),
    "CC-9001": Decimal("10000"),
    "CC-9002": Decimal("2500"),
}

SITES = {
    # slug: (company code, engineering location, go-to-market location)
    "acme": ("US01", "US-SFO", "US-NYC"),
    "globex": ("DE01", "DE-BER", "DE-MUC"),
}


def _months_back(today: date, count: int) -> list[date]:
    """The current month and the ``count`` months before it, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count + 1):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


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


def budget_rows(*, organization: Organization, today: date) -> list[dict]:
    rows = []
    for step, month in enumerate(_months_back(today, 3)):
        growth = Decimal(1) + Decimal("0.05") * step  # AI budgets grow month on month
        for code, base in MONTHLY_BUDGET.items():
            rows.append(
                {
                    "owner": code,
                    "period": f"{month:%Y-%m}",
                    "amount": str((base * growth).quantize(Decimal("1.00"))),
                    "currency": organization.base_currency,
                }
            )
    return rows


@transaction.atomic
def seed_demo(*, organization: Organization, stdout) -> None:
    owners = owner_rows(organization=organization)
    budgets = budget_rows(organization=organization, today=timezone.localdate())
    context: dict = {}
    errors = catalog_io.validate_section(organization=organization, rows=owners, context=context)
    errors += catalog_io.validate_budgets(organization=organization, rows=budgets, context=context)
    if errors:
        raise RuntimeError(f"demo cost centres for {organization.slug} are invalid: {errors}")
    owner_counts = catalog_io.apply_section(organization=organization, rows=owners, actor=None)
    budget_counts = catalog_io.apply_budgets(organization=organization, rows=budgets, actor=None)
    stdout.write(
        f"  {organization.slug}: cost centres {owner_counts['created']} created, {owner_counts['updated']} updated; "
        f"budgets {budget_counts['created']} created, {budget_counts['updated']} updated"
    )
